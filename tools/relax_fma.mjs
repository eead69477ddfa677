#!/usr/bin/env node
// Rewrites a WASM SIMD module to use fused multiply-add: every f32x4.add(f32x4.mul(x, y), z) and
// f32x4.add(z, f32x4.mul(x, y)) becomes f32x4.relaxed_madd(x, y, z) (standard relaxed-SIMD opcode
// 0xfd 0x85 0x02). Emscripten 3.1.6's LLVM 14 can only emit the pre-standard f32x4.fma opcode, which
// Node 20 and Chromium reject, so the relaxed build is the plain build post-processed here with
// binaryen.js (pinned npm dependency).
//   node tools/relax_fma.mjs IN.wasm OUT.wasm
// Prints the number of rewritten sites. Also a module: relaxFma(bytes), countFma(bytes) (tests). Imports, exports, memory, table and data are untouched, so the same Emscripten
// glue (dist/scribe.mjs) instantiates either module.
//
// Evaluation order: relaxed_madd evaluates x, y, z in that order. add(mul(x, y), z) evaluates them in
// the same order. add(z, mul(x, y)) evaluates z first: it becomes madd(x, y, z) directly when z and
// mul(x, y) commute: no branches, calls or writes to memory, globals or tables in
// either, and no local written by one and read or written by the other (reads of memory and
// possible traps commute), so the order cannot be observed; otherwise z is first stored in a new
// local: (block (local.set $t z) (f32x4.relaxed_madd x y (local.get $t))), the original order.
// relaxed_madd may round once (fused) or twice (mul then add); both are within our kernels'
// tolerance, and V8 on x64 with FMA3 fuses.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import binaryen from 'binaryen';

const F = binaryen.Features;
// What emcc -msimd128 output uses (validation fails loudly if it uses more), plus relaxed SIMD.
const FEATURES = F.MutableGlobals | F.NontrappingFPToInt | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt |
  F.SignExt | F.RelaxedSIMD;
const E = binaryen.SideEffects;
// Effects that never stop two expressions from swapping (local accesses are compared one by one).
const HARMLESS = E.ReadsLocal | E.WritesLocal | E.ReadsGlobal | E.ReadsMemory | E.ImplicitTrap | E.TrapsNeverHappen;

// Child slots of each expression kind: [info field, setter]. Leaves (local.get, const, ...) have none.
const B = binaryen;
const SLOTS = new Map([
  [B.BlockId, null], [B.CallId, null], [B.CallIndirectId, [['target', B.CallIndirect.setTarget]]],
  [B.IfId, [['condition', B.If.setCondition], ['ifTrue', B.If.setIfTrue], ['ifFalse', B.If.setIfFalse]]],
  [B.LoopId, [['body', B.Loop.setBody]]],
  [B.BreakId, [['condition', B.Break.setCondition], ['value', B.Break.setValue]]],
  [B.SwitchId, [['condition', B.Switch.setCondition], ['value', B.Switch.setValue]]],
  [B.LocalSetId, [['value', B.LocalSet.setValue]]],
  [B.GlobalSetId, [['value', B.GlobalSet.setValue]]],
  [B.LoadId, [['ptr', B.Load.setPtr]]],
  [B.StoreId, [['ptr', B.Store.setPtr], ['value', B.Store.setValue]]],
  [B.UnaryId, [['value', B.Unary.setValue]]],
  [B.BinaryId, [['left', B.Binary.setLeft], ['right', B.Binary.setRight]]],
  [B.SelectId, [['ifTrue', B.Select.setIfTrue], ['ifFalse', B.Select.setIfFalse], ['condition', B.Select.setCondition]]],
  [B.DropId, [['value', B.Drop.setValue]]],
  [B.ReturnId, [['value', B.Return.setValue]]],
  [B.MemoryGrowId, [['delta', B.MemoryGrow.setDelta]]],
  [B.SIMDExtractId, [['vec', B.SIMDExtract.setVec]]],
  [B.SIMDReplaceId, [['vec', B.SIMDReplace.setVec], ['value', B.SIMDReplace.setValue]]],
  [B.SIMDShuffleId, [['left', B.SIMDShuffle.setLeft], ['right', B.SIMDShuffle.setRight]]],
  [B.SIMDTernaryId, [['a', B.SIMDTernary.setA], ['b', B.SIMDTernary.setB], ['c', B.SIMDTernary.setC]]],
  [B.SIMDShiftId, [['vec', B.SIMDShift.setVec], ['shift', B.SIMDShift.setShift]]],
  [B.SIMDLoadId, [['ptr', B.SIMDLoad.setPtr]]],
  [B.SIMDLoadStoreLaneId, [['ptr', B.SIMDLoadStoreLane.setPtr], ['vec', B.SIMDLoadStoreLane.setVec]]],
  [B.MemoryInitId, [['dest', B.MemoryInit.setDest], ['offset', B.MemoryInit.setOffset], ['size', B.MemoryInit.setSize]]],
  [B.MemoryCopyId, [['dest', B.MemoryCopy.setDest], ['source', B.MemoryCopy.setSource], ['size', B.MemoryCopy.setSize]]],
  [B.MemoryFillId, [['dest', B.MemoryFill.setDest], ['value', B.MemoryFill.setValue], ['size', B.MemoryFill.setSize]]],
  [B.NopId, []], [B.LocalGetId, []], [B.GlobalGetId, []], [B.ConstId, []], [B.MemorySizeId, []],
  [B.UnreachableId, []], [B.DataDropId, []],
]);
const LIST_SETTER = new Map([[B.BlockId, ['children', B.Block.setChildAt]], [B.CallId, ['operands', B.Call.setOperandAt]],
  [B.CallIndirectId, ['operands', B.CallIndirect.setOperandAt]]]);

function children(e) {
  const id = binaryen.getExpressionId(e);
  if (!SLOTS.has(id)) throw new Error(`relax_fma: unhandled expression kind ${id}:\n${binaryen.emitText(e)}`);
  const slots = SLOTS.get(id);
  if (slots && slots.length === 0) return [];
  const info = binaryen.getExpressionInfo(e);
  const out = (slots ?? []).map(([field]) => info[field]).filter(Boolean);
  if (LIST_SETTER.has(id)) out.push(...info[LIST_SETTER.get(id)[0]]);
  return out;
}

const isMul = (e) => {
  const i = binaryen.getExpressionInfo(e);
  return i.id === binaryen.BinaryId && i.op === binaryen.MulVecF32x4 ? i : null;
};
const isAddF32x4 = (info) => info.id === binaryen.BinaryId && info.op === binaryen.AddVecF32x4;

// Locals read and written anywhere in e.
function localAccess(e, acc = { reads: new Set(), writes: new Set() }) {
  const id = binaryen.getExpressionId(e);
  if (id === binaryen.LocalGetId) acc.reads.add(binaryen.getExpressionInfo(e).index);
  if (id === binaryen.LocalSetId) acc.writes.add(binaryen.getExpressionInfo(e).index);
  for (const c of children(e)) localAccess(c, acc);
  return acc;
}

// True when evaluating a before b gives the same result as b before a: neither branches, calls,
// writes memory/globals/tables or is atomic, and no local written by one is read or written by the
// other. (Reads of memory and possible traps commute: a trap ends the run either way.)
function commute(mod, a, b) {
  if ((binaryen.getSideEffects(a, mod) & ~HARMLESS) || (binaryen.getSideEffects(b, mod) & ~HARMLESS)) return false;
  const la = localAccess(a), lb = localAccess(b);
  for (const i of la.writes) if (lb.reads.has(i) || lb.writes.has(i)) return false;
  for (const i of lb.writes) if (la.reads.has(i)) return false;
  return true;
}

function readModule(bytes) {
  const mod = binaryen.readBinary(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  mod.setFeatures(FEATURES);
  if (!mod.validate()) {
    mod.dispose();
    throw new Error('relax_fma: the input module does not validate');
  }
  return mod;
}

function forEachBody(mod, fn) {
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const f = mod.getFunctionByIndex(i);
    const body = binaryen.getFunctionInfo(f).body;
    if (body) fn(f, body); // (imports have none)
  }
}

/** Rewrites every f32x4 mul+add; returns { binary, rewritten, viaLocal }. */
export function relaxFma(bytes) {
  const mod = readModule(bytes);
  const stats = { rewritten: 0, viaLocal: 0 };
  const madd = (x, y, z) => binaryen._BinaryenSIMDTernary(mod.ptr, binaryen.RelaxedMaddVecF32x4, x, y, z);
  let func = 0;
  // Post-order walk; returns the expression that replaces e (e itself when unchanged).
  function visit(e) {
    const id = binaryen.getExpressionId(e);
    if (!SLOTS.has(id)) throw new Error(`relax_fma: unhandled expression kind ${id}:\n${binaryen.emitText(e)}`);
    const slots = SLOTS.get(id);
    if (slots && slots.length === 0) return e; // a leaf (binaryen.js has no info wrapper for nop/unreachable)
    let info = binaryen.getExpressionInfo(e);
    for (const [field, set] of slots ?? []) {
      const c = info[field];
      if (!c) continue;
      const n = visit(c);
      if (n !== c) set(e, n);
    }
    if (LIST_SETTER.has(id)) {
      const [field, setAt] = LIST_SETTER.get(id);
      info[field].forEach((c, i) => {
        const n = visit(c);
        if (n !== c) setAt(e, i, n);
      });
    }
    if (!isAddF32x4(info)) return e;
    info = binaryen.getExpressionInfo(e); // the children as rewritten above
    const l = isMul(info.left);
    if (l) {
      stats.rewritten++;
      return madd(l.left, l.right, info.right);
    }
    const r = isMul(info.right);
    if (!r) return e;
    stats.rewritten++;
    if (commute(mod, info.left, info.right)) return madd(r.left, r.right, info.left);
    // z first into a new local, then madd(x, y, local): the original order z, x, y.
    stats.viaLocal++;
    const t = binaryen._BinaryenFunctionAddVar(func, binaryen.v128);
    return mod.block(null, [mod.local.set(t, info.left), madd(r.left, r.right, mod.local.get(t, binaryen.v128))],
      binaryen.v128);
  }
  try {
    forEachBody(mod, (f, body) => {
      func = f;
      const n = visit(body);
      if (n !== body) binaryen.Function.setBody(f, n);
    });
    if (!mod.validate()) throw new Error('relax_fma: the rewritten module does not validate');
    return { binary: mod.emitBinary(), ...stats };
  } finally {
    mod.dispose();
  }
}

/** Counts f32x4.relaxed_madd and remaining f32x4.add-of-f32x4.mul expressions in a module. */
export function countFma(bytes) {
  const mod = readModule(bytes);
  const n = { relaxedMadd: 0, mulAdd: 0 };
  function walk(e) {
    const id = binaryen.getExpressionId(e);
    if (id === binaryen.SIMDTernaryId && binaryen.getExpressionInfo(e).op === binaryen.RelaxedMaddVecF32x4) n.relaxedMadd++;
    if (id === binaryen.BinaryId) {
      const info = binaryen.getExpressionInfo(e);
      if (isAddF32x4(info) && (isMul(info.left) || isMul(info.right))) n.mulAdd++;
    }
    for (const c of children(e)) walk(c);
  }
  try {
    forEachBody(mod, (f, body) => walk(body));
    return n;
  } finally {
    mod.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [inPath, outPath] = process.argv.slice(2);
  if (!inPath || !outPath) {
    console.error('usage: node tools/relax_fma.mjs IN.wasm OUT.wasm');
    process.exit(2);
  }
  try {
    const r = relaxFma(fs.readFileSync(inPath));
    fs.writeFileSync(outPath, r.binary);
    console.log(`relax_fma: ${outPath}: ${r.rewritten} f32x4 mul+add sites -> f32x4.relaxed_madd` +
      ` (${r.viaLocal} of them keep their operand order through a new local)`);
  } catch (e) {
    console.error(`${e.message} (${inPath})`);
    process.exit(1);
  }
}
