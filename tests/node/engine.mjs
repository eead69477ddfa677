// Loads the WASM engine from dist/ for the Node suites. Emscripten 3.1.6 cannot fetch file://
// URLs under Node, so the module gets the wasm bytes directly.
import { readFileSync } from 'node:fs';
import { loadScribe } from '../../web/engine/core.js';

export const ROOT_URL = new URL('../../', import.meta.url);

export function loadEngine() {
  return loadScribe({
    moduleUrl: new URL('dist/scribe.mjs', ROOT_URL).href,
    wasmBinary: readFileSync(new URL('dist/scribe.wasm', ROOT_URL)),
  });
}

/** Deterministic PRNG (mulberry32) returning floats in [0, 1), for reproducible random cases. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
