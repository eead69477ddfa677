// Loads the scribe WASM module in a browser, a worker or Node, and gives the
// feature modules (notes, midi, metrics, sessions) safe memory helpers.
// Works without a bundler: plain ES module, no globals.

export class ScribeError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ScribeError';
    this.status = status;
  }
}

// The smallest module using f32x4.relaxed_madd (opcode 0xfd 0x85 0x02): (func (local v128)
// local.get 0 x3, f32x4.relaxed_madd, drop). WebAssembly.validate accepts it where the runtime has
// relaxed SIMD (Chromium 114+, Node with --experimental-wasm-relaxed-simd; not Safari, not Node 20).
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x10, 0x01, 0x0e, 0x01, 0x01, 0x7b, // code section: one body, one v128 local
  0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0xfd, 0x85, 0x02, 0x1a, 0x0b,
]);

/** True when this runtime validates relaxed SIMD (and so can run scribe-relaxed.wasm). */
export function relaxedSimdSupported() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** The build to load here: the fused multiply-add build where relaxed SIMD validates. */
export function scribeWasmFile() {
  return relaxedSimdSupported() ? 'scribe-relaxed.wasm' : 'scribe.wasm';
}

/**
 * Loads the engine. `wasmBinary` (ArrayBuffer/Uint8Array) is required under Node
 * (Emscripten 3.1.6 cannot fetch file:// URLs); browsers may omit it, and then the module
 * fetches scribe-relaxed.wasm (fused multiply-add, same imports and exports) next to
 * `moduleUrl` where relaxed SIMD validates, else scribe.wasm; if the relaxed build fails to
 * load it falls back to scribe.wasm. `core.wasmFile` tells which (null: the caller's binary).
 */
export async function loadScribe({ moduleUrl, wasmBinary } = {}) {
  const url = moduleUrl ?? new URL('../scribe.mjs', import.meta.url).href;
  const { default: createScribeModule } = await import(url);
  if (wasmBinary) return new Core(await createScribeModule({ wasmBinary }), null);
  const create = (file) => createScribeModule({ locateFile: (p) => new URL(p === 'scribe.wasm' ? file : p, url).href });
  const file = scribeWasmFile();
  if (file !== 'scribe.wasm') {
    try {
      return new Core(await create(file), file);
    } catch (e) {
      console.warn(`scribe: ${file} did not load (${e?.message ?? e}); using scribe.wasm`);
    }
  }
  return new Core(await create('scribe.wasm'), 'scribe.wasm');
}

/** Thin owner of the module: allocation, copies in and out, error checking. */
export class Core {
  constructor(mod, wasmFile = null) {
    this.mod = mod;
    this.wasmFile = wasmFile;
    this.errPtr = mod._wasm_error_new();
  }

  // Views are re-created on every access: memory growth detaches old ones.
  get u8() { return new Uint8Array(this.mod.HEAPU8.buffer); }
  get f32() { return new Float32Array(this.mod.HEAPU8.buffer); }
  get f64() { return new Float64Array(this.mod.HEAPU8.buffer); }
  get i32() { return new Int32Array(this.mod.HEAPU8.buffer); }
  get u32() { return new Uint32Array(this.mod.HEAPU8.buffer); }

  malloc(bytes) {
    const p = this.mod._malloc(Math.max(1, bytes));
    if (!p) throw new ScribeError(2, `out of memory allocating ${bytes} bytes in the engine`);
    return p;
  }
  free(p) { if (p) this.mod._free(p); }

  /** Copies bytes (Uint8Array/ArrayBuffer) into a new engine buffer. */
  copyIn(bytes) {
    const src = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const p = this.malloc(src.length);
    this.u8.set(src, p);
    return p;
  }
  copyInF32(arr) {
    const src = arr instanceof Float32Array ? arr : Float32Array.from(arr);
    const p = this.malloc(src.length * 4);
    this.f32.set(src, p >> 2);
    return p;
  }
  copyOut(p, len) { return this.u8.slice(p, p + len); }
  readCString(p) {
    const u8 = this.u8;
    let end = p;
    while (u8[end]) end++;
    return new TextDecoder().decode(u8.subarray(p, end));
  }
  writeCString(s) {
    const b = new TextEncoder().encode(s);
    const p = this.malloc(b.length + 1);
    this.u8.set(b, p);
    this.u8[p + b.length] = 0;
    return p;
  }

  /** Throws a ScribeError with the engine's message when `status` is non-zero. */
  check(status) {
    if (status !== 0) {
      const msg = this.readCString(this.mod._wasm_error_message(this.errPtr));
      const name = this.readCString(this.mod._wasm_status_name(status));
      throw new ScribeError(status, `${name}: ${msg}`);
    }
  }
}
