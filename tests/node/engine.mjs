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
