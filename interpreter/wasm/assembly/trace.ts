// The traced run: the state hash after every step (vm/state.ts), the memory Merkle tree kept up to date
// incrementally (vm/memory.ts), checkpoints for witnesses, and the trace tree over s0 … sN.
//
// The model region's tree is built once per model (setupTrace) and never changes; a run rebuilds only the
// data region's small tree and rehashes one leaf path per write.
import { alloc } from "./heap";
import { keccak256 } from "./keccak";
import {
  LEAF_WORDS, countingSaturations, dataBaseWord, dataWords, imageWords, lastWriteLeaf, mem, memoryDepth, regAcc,
  regAux, regHalted, regI, regJ, regPc, regStep, setRegisters,
} from "./machine";
import { step } from "./step";
import { Tree, emptyChain, hashNode } from "./tree";

// "mlvm.leaf", "mlvm.state"
const TAG_LEAF = memory.data<u8>([0x6d, 0x6c, 0x76, 0x6d, 0x2e, 0x6c, 0x65, 0x61, 0x66]);
const TAG_STATE = memory.data<u8>([0x6d, 0x6c, 0x76, 0x6d, 0x2e, 0x73, 0x74, 0x61, 0x74, 0x65]);
const LEAF_PREIMAGE: usize = 9 + 32;
const STATE_PREIMAGE: usize = 10 + 97;
/** A checkpoint: step, pc, i, j, acc, aux, halted (40 bytes), then the data region's words. */
const CHECKPOINT_HEADER: usize = 40;

let scratch: usize = 0;
let programRoot: usize = 0;
let memoryRoot: usize = 0;
let modelTree: Tree | null = null;
let dataTree: Tree | null = null;
let traceTree: Tree | null = null;
let traceSteps: i32 = 0;
let interval: i32 = 0;
let checkpoints: usize = 0;

/** The 32 bytes where the host writes the program root before tracing. */
export function programRootPointer(): usize {
  if (programRoot == 0) programRoot = alloc(32);
  return programRoot;
}

/**
 * Prepares tracing for the loaded model (after setupMachine and after the host wrote the image and program):
 * hashes the model region's tree once, and allocates the data tree, the trace tree for `steps` + 1 states and
 * one checkpoint every `checkpointInterval` steps.
 */
export function setupTrace(steps: i32, checkpointInterval: i32): void {
  scratch = alloc(STATE_PREIMAGE);
  memoryRoot = alloc(32);
  programRootPointer();
  const zeros = alloc(32);
  const emptyLeaf = alloc(32);
  hashLeafBytes(zeros, emptyLeaf);
  const regionDepth = memoryDepth - 1;
  const empty = emptyChain(emptyLeaf, regionDepth);
  const model = new Tree((imageWords + LEAF_WORDS - 1) / LEAF_WORDS, regionDepth, empty);
  for (let k = 0; k < model.count; k++) hashMemoryLeaf(k * LEAF_WORDS, model.leaf(k));
  model.build();
  modelTree = model;
  dataTree = new Tree(dataWords / LEAF_WORDS, regionDepth, empty);
  traceSteps = steps;
  traceTree = new Tree(steps + 1, ceilLog2(steps + 1), 0);
  interval = checkpointInterval;
  checkpoints = alloc(<usize>checkpointCount() * checkpointBytes());
}

export function modelRootPointer(): usize {
  return modelTree!.root();
}

export function memoryRootPointer(): usize {
  return memoryRoot;
}

/**
 * Runs the machine from its current registers and memory (the host reset it and wrote the input) to the
 * halted state, hashing every state into the trace, then builds the trace tree. Returns the steps taken.
 */
export function runTraced(): i64 {
  rebuildDataTree();
  const trace = traceTree!;
  hashCurrentState(trace.leaf(0));
  saveCheckpoint(0);
  while (!regHalted && regStep < <i64>traceSteps) {
    step();
    if (lastWriteLeaf >= 0) {
      const leaf = lastWriteLeaf - dataBaseWord / LEAF_WORDS;
      const data = dataTree!;
      hashMemoryLeaf(lastWriteLeaf * LEAF_WORDS, data.leaf(leaf));
      data.update(leaf);
      updateMemoryRoot();
    }
    const k = <i32>regStep;
    hashCurrentState(trace.leaf(k));
    if (k % interval == 0) saveCheckpoint(k / interval);
  }
  if (regHalted && <i32>regStep == traceSteps) {
    // Pad to a power of two by repeating sN: the padding chain starts from sN.
    trace.empty = emptyChain(trace.leaf(traceSteps), trace.depth);
    trace.build();
  }
  return regStep;
}

export function traceRootPointer(): usize {
  return traceTree!.root();
}

export function traceLeafPointer(k: i32): usize {
  return traceTree!.node(0, k);
}

export function traceDepth(): i32 {
  return traceTree!.depth;
}

/** Writes the trace-tree siblings of leaf k; returns how many. */
export function traceProof(k: i32, out: usize): i32 {
  return traceTree!.proof(0, k, out);
}

/**
 * Writes the siblings, in the whole depth-D memory tree, of the node at `height` above leaf `leafIndex`
 * (height 0: a leaf; height 2: a 4-leaf chunk), up to the memory root; returns how many (D − height).
 */
export function memoryProof(leafIndex: i32, height: i32, out: usize): i32 {
  const p = leafIndex >> height;
  const half = 1 << (memoryDepth - 1 - height);
  const inModel = p < half;
  const written = inModel ? modelTree!.proof(height, p, out) : dataTree!.proof(height, p - half, out);
  memory.copy(out + <usize>written * 32, inModel ? dataTree!.root() : modelTree!.root(), 32);
  return written + 1;
}

/**
 * Restores checkpoint c: registers and data region (the host replays, then calls rebuildDataTree). The replay
 * does not count saturations: the counts stay those of the run the checkpoints came from.
 */
export function restoreCheckpoint(c: i32): void {
  countingSaturations = 0;
  const at = checkpoints + <usize>c * checkpointBytes();
  setRegisters(load<i64>(at), load<i32>(at, 8), load<i32>(at, 12), load<i32>(at, 16), load<i64>(at, 24), load<i32>(at, 32), load<i32>(at, 36));
  memory.copy(mem + <usize>dataBaseWord * 4, at + CHECKPOINT_HEADER, <usize>dataWords * 4);
}

export function checkpointInterval(): i32 {
  return interval;
}

/** Rehashes the data region's tree from its words, and the memory root. */
export function rebuildDataTree(): void {
  const data = dataTree!;
  for (let k = 0; k < data.count; k++) hashMemoryLeaf(dataBaseWord + k * LEAF_WORDS, data.leaf(k));
  data.build();
  updateMemoryRoot();
}

/** The current state's hash (vm/state.ts hashState) into dst. */
export function hashCurrentState(dst: usize): void {
  memory.copy(scratch, TAG_STATE, 10);
  memory.copy(scratch + 10, programRoot, 32);
  memory.copy(scratch + 42, memoryRoot, 32);
  store<u64>(scratch + 74, bswap<u64>(<u64>regStep));
  store<u32>(scratch + 82, bswap<u32>(<u32>regPc));
  store<u32>(scratch + 86, bswap<u32>(<u32>regI));
  store<u32>(scratch + 90, bswap<u32>(<u32>regJ));
  store<u64>(scratch + 94, bswap<u64>(<u64>regAcc));
  store<u32>(scratch + 102, bswap<u32>(<u32>regAux));
  store<u8>(scratch + 106, <u8>regHalted);
  keccak256(scratch, STATE_PREIMAGE, dst);
}

function updateMemoryRoot(): void {
  hashNode(modelTree!.root(), dataTree!.root(), memoryRoot);
}

/** H(leaf, the 8 words at `addr`, big-endian). */
function hashMemoryLeaf(addr: i32, dst: usize): void {
  hashLeafBytes(mem + (<usize>addr << 2), dst, true);
}

function hashLeafBytes(src: usize, dst: usize, swap: bool = false): void {
  memory.copy(scratch, TAG_LEAF, 9);
  for (let t: usize = 0; t < 8; t++) {
    const w = load<u32>(src + (t << 2));
    store<u32>(scratch + 9 + (t << 2), swap ? bswap<u32>(w) : w);
  }
  keccak256(scratch, LEAF_PREIMAGE, dst);
}

function saveCheckpoint(c: i32): void {
  const at = checkpoints + <usize>c * checkpointBytes();
  store<i64>(at, regStep);
  store<i32>(at, regPc, 8);
  store<i32>(at, regI, 12);
  store<i32>(at, regJ, 16);
  store<i64>(at, regAcc, 24);
  store<i32>(at, regAux, 32);
  store<i32>(at, regHalted, 36);
  memory.copy(at + CHECKPOINT_HEADER, mem + <usize>dataBaseWord * 4, <usize>dataWords * 4);
}

function checkpointCount(): i32 {
  return traceSteps / interval + 1;
}

function checkpointBytes(): usize {
  return CHECKPOINT_HEADER + <usize>dataWords * 4;
}

function ceilLog2(n: i32): i32 {
  let d = 0;
  while ((1 << d) < n) d++;
  return d;
}
