// Lists the functions a WASM module exports (CI-style check of the engine's surface).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'dist/scribe.wasm';
const mod = new WebAssembly.Module(readFileSync(file));
const fns = WebAssembly.Module.exports(mod).filter((e) => e.kind === 'function').map((e) => e.name).sort();
for (const name of fns) console.log(name);
console.error(`${fns.length} exported functions in ${file}`);
