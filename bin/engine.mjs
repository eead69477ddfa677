// Loads the WASM engine from dist/ under Node: the CLI (bin/scribe, bin/mt3-commands.mjs), the Node
// tests (tests/node/engine.mjs) and the benchmarks share this one loader. Emscripten 3.1.6 cannot
// fetch file:// URLs under Node, so the module gets the wasm bytes directly.
import { existsSync, readFileSync } from 'node:fs';
import { loadScribe, scribeWasmFile } from '../web/engine/core.js';

export const ROOT_URL = new URL('../', import.meta.url);

/** build: 'auto' (the fused multiply-add build where this Node validates relaxed SIMD, i.e. it runs
 * with --experimental-wasm-relaxed-simd, else the plain SIMD build), 'scribe.wasm' or
 * 'scribe-relaxed.wasm'. Throws a message naming the missing file when the engine is not built. */
export function loadEngine(build = 'auto') {
  let wasm = new URL(`dist/${build === 'auto' ? scribeWasmFile() : build}`, ROOT_URL);
  if (build === 'auto' && !existsSync(wasm)) wasm = new URL('dist/scribe.wasm', ROOT_URL);
  const mjs = new URL('dist/scribe.mjs', ROOT_URL);
  for (const f of [mjs, wasm]) if (!existsSync(f)) throw new Error(`engine not built: ${f.pathname} is missing (run make)`);
  return loadScribe({ moduleUrl: mjs.href, wasmBinary: readFileSync(wasm) });
}
