/**
 * Gas of the one-step verifier, as users pay it: every step of one MNIST trace sent as a real transaction to
 * OneStepVerifier in the in-process EVM (21,000 + calldata + execution), grouped by step kind; the sigmoid and
 * tanh steps of the golden fixtures; the worst-case step of every opcode of the table at MNIST's memory depth
 * (benchOpcodeGas); and the whole MNIST inference in the EVM for comparison.
 *
 * `npx tsx bench/gas.ts` prints the per-opcode figures alone (no model, no compiler: about 10 s).
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CompiledModel } from "../compiler/compile.js";
import { type Deployed, InProcessEvm, estimateCalldataGas } from "../evm/inprocess.js";
import { witnessArgs } from "../evm/witness-args.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { MemoryTree } from "../interpreter/witness-reference.js";
import { prng } from "../datasets/synthetic.js";
import { ONE } from "../vm/fixed.js";
import { fromHex, toHex } from "../vm/hash.js";
import { CHUNK_WORDS, LEAF_WORDS, dataBase } from "../vm/memory.js";
import { OPCODES, Opcode, isUnary, opcodeInfo } from "../vm/opcodes.js";
import { type Instruction, type Program, validateProgram } from "../vm/program.js";
import { INITIAL_STATE, type State, decodeState } from "../vm/state.js";
import { type StepWitness, type StepWitnessJson, witnessFromJson } from "../vm/witness.js";
import { encodeWindow } from "../vm/window.js";
import { deployFullInference } from "./full-inference.js";

/** evm-neural-network's published gas for one MNIST inference fully on-chain (shared/seeds). */
export const EVM_NEURAL_NETWORK_GAS = 41_036_311;

export interface StepKindGas {
  kind: string;
  steps: number;
  maxGas: number;
  medianGas: number;
  /** The calldata part of the most expensive step's gas. */
  maxCalldataGas: number;
}

export interface GasBench {
  stepKinds: StepKindGas[];
  /** The worst-case step of every opcode at MNIST's memory depth (benchOpcodeGas). */
  opcodes: OpcodeGas[];
  maxStepGas: number;
  fullInferenceGas: number;
  stepOverFullInference: number;
  evmNeuralNetworkGas: number;
}

/** A step's kind: its opcode, and for DENSE whether it starts a row, continues it or ends it. */
function kindOf(model: CompiledModel, w: StepWitness): string {
  const { state } = decodeState(w.preState);
  if (state.halted) return "halted (steps to itself)";
  const insn = model.program.instructions[state.pc];
  const name = opcodeInfo(insn.opcode)!.name;
  if (insn.opcode !== Opcode.DENSE) return name;
  const chunks = Math.ceil(insn.args[4] / 32);
  return state.j === chunks - 1 ? "DENSE row end" : state.j === 0 ? "DENSE row start" : "DENSE chunk";
}

export async function benchGas(model: CompiledModel, input: Int32Array): Promise<GasBench> {
  const evm = await InProcessEvm.create();
  const verifier = await evm.deploy("OneStepVerifier");
  const byKind = new Map<string, { gas: number[]; calldata: number[] }>();
  const send = async (kind: string, pre: Uint8Array, w: StepWitness, expected: Uint8Array) => {
    const args = [toHex(pre), witnessArgs(w)];
    const { result, gasUsed } = await verifier.transact("verifyStep", args);
    if (result !== toHex(expected)) throw new Error(`the verifier disagrees with the VM at step ${w.step}`);
    const entry = byKind.get(kind) ?? { gas: [], calldata: [] };
    entry.gas.push(Number(gasUsed));
    entry.calldata.push(Number(estimateCalldataGas(verifier.encode("verifyStep", args))));
    byKind.set(kind, entry);
  };

  const trace = new WasmMachine(model).trace(input);
  for (let k = 0; k <= trace.steps; k++) {
    const w = trace.witness(k);
    await send(kindOf(model, w), trace.stateHash(k), w, trace.stateHash(k + 1));
  }
  const fixtures = fileURLToPath(new URL("../fixtures/witnesses/", import.meta.url));
  for (const file of readdirSync(fixtures).filter((f) => f.startsWith("small-"))) {
    const f = JSON.parse(readFileSync(fixtures + file, "utf8")) as { preStateHash: string; postStateHash: string; witness: StepWitnessJson };
    const w = witnessFromJson(f.witness);
    const kind = opcodeInfo(witnessOpcode(w))!.name;
    await send(kind, fromHex(f.preStateHash), w, fromHex(f.postStateHash));
  }

  const stepKinds = [...byKind].map(([kind, { gas, calldata }]) => {
    const sorted = [...gas].sort((a, b) => a - b);
    const max = Math.max(...gas);
    return { kind, steps: gas.length, maxGas: max, medianGas: sorted[Math.floor(sorted.length / 2)], maxCalldataGas: calldata[gas.indexOf(max)] };
  });
  const opcodes = await benchOpcodeGas(verifier);
  const maxStepGas = Math.max(...stepKinds.map((s) => s.maxGas), ...opcodes.map((o) => o.gas));
  const full = await (await deployFullInference(model)).infer(input);
  return {
    stepKinds,
    opcodes,
    maxStepGas,
    fullInferenceGas: Number(full.gasUsed),
    stepOverFullInference: maxStepGas / Number(full.gasUsed),
    evmNeuralNetworkGas: EVM_NEURAL_NETWORK_GAS,
  };
}

function witnessOpcode(w: StepWitness): number {
  return w.instruction[0];
}

/** The memory depth of the per-opcode figures: MNIST's (784-128-64-10 needs 2^15 leaves), so proofs have 15 levels. */
export const OPCODE_BENCH_DEPTH = 15;

export interface OpcodeGas {
  opcode: string;
  /** What the measured step does (its reads and write). */
  step: string;
  /** The transaction's gas: 21,000 + calldata + execution. */
  gas: number;
  calldataGas: number;
  reads: number;
}

/**
 * Every opcode's most expensive step as a transaction, at memory depth 15 over a memory of random words (so every
 * proof sibling is a real hash): DENSE a one-chunk row (weights and input chunks, bias and output leaves: it starts
 * and ends the row); each unary op src ≠ dst (two leaf reads) with 8 words on its slowest path (negative inputs in
 * (−8, 0), where ELU and LEAKY_RELU multiply, GELU and GELU_TANH evaluate their whole core, SOFTPLUS its series);
 * ADD with a, b and dst distinct (three reads); LAYERNORM's third pass src ≠ dst (four reads); ARGMAX its last leaf
 * (it stores the index); IM2COL a full 8-word piece whose segment straddles two chunks (two chunk reads, then the
 * patch leaf); MATMUL chunk 0 of a one-chunk row (DENSE's four reads: weights, patch, bias, output); each pooling its
 * last kernel row of 33 words (the widest segment, across two chunks), reached by running the row before it, so it
 * reads two chunks and the destination leaf and stores the result; HALT.
 * The instruction sits in an 8-instruction program (a 3-level instruction proof, as MNIST's), validated (but HALT's).
 */
export async function benchOpcodeGas(verifier?: Deployed): Promise<OpcodeGas[]> {
  const v = verifier ?? (await (await InProcessEvm.create()).deploy("OneStepVerifier"));
  const depth = OPCODE_BENCH_DEPTH;
  const base = dataBase(depth);
  const rand = prng(15);
  const words = new Int32Array(2 * base);
  for (let k = 0; k < words.length; k++) words[k] = Math.round((rand() * 2 - 1) * 0.5 * ONE);
  // the slow path: 8 negative words in (−8, 0) at the unary ops' source (and ADD's operands)
  const src = base + 1024;
  for (let t = 0; t < 3 * LEAF_WORDS; t++) words[src + t] = -Math.round((0.25 + 7.5 * rand()) * ONE);
  const dst = base + 4096;
  const [a, b] = [src, src + LEAF_WORDS];
  const params: Record<string, number[]> = { "": [], alpha: [Math.round(0.2 * ONE)], "lo,hi": [(-2 * ONE) >>> 0, 2 * ONE] };

  // the windowed ops' image (1 channel, 2 rows of 40 words) at a word that is not chunk-aligned (20 past a chunk): a
  // pooling's kernel row of 33 words straddles two chunks in both image rows, and so does IM2COL's 8-word piece at
  // output column 8 (image words 28 … 35)
  const image = base + 2048 + 20;
  const plain = { strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1 };
  const im2colWindow = encodeWindow({ channels: 1, height: 2, width: 40, outHeight: 1, outWidth: 33, kernelH: 2, kernelW: 8, ...plain });
  const poolWindow = encodeWindow({ channels: 1, height: 2, width: 40, outHeight: 1, outWidth: 8, kernelH: 2, kernelW: 33, ...plain });

  /** advance: steps run from `state` before the measured one (a pooling's last row, with the real acc and count). */
  const cases: { insn: Instruction; state: State; step: string; advance: number }[] = [];
  for (const info of OPCODES) {
    const at = (args: number[], step: string, state: Partial<State> = {}, advance = 0) =>
      cases.push({ insn: { opcode: info.code, args }, state: { ...INITIAL_STATE, ...state }, step, advance });
    if (info.code === Opcode.HALT) at([], "halts");
    else if (info.code === Opcode.DENSE) at([base, 0, 64 * CHUNK_WORDS, dst, CHUNK_WORDS, 64, 16], "a one-chunk row: 2 chunk + 2 leaf reads, writes y[r]", { i: 5 });
    else if (info.code === Opcode.ARGMAX) at([src, 16, dst], "the last of 2 leaves: 2 leaf reads, writes the index", { i: 1, acc: BigInt(words[src]), aux: 0 });
    else if (info.code === Opcode.ADD) at([a, b, dst, 8, 16, 16, 16], "a, b, dst distinct: 3 leaf reads, writes dst's leaf");
    else if (info.code === Opcode.LAYERNORM) {
      // the third pass, src ≠ dst: src, gamma, beta and dst leaves (the first two passes read one leaf, write none)
      const scale = (BigInt(12) << 40n) | BigInt(2 ** 30);
      at([src, dst, 8, 0, 16, 16, 42950], "the third pass, src ≠ dst: 4 leaf reads (src, gamma, beta, dst), writes dst's leaf", { j: 2, acc: scale, aux: -3 * ONE });
    }
    else if (info.code === Opcode.IM2COL) at([image, dst, ...im2colWindow], "an 8-word piece straddling two chunks: 2 chunk + 1 leaf reads, writes the patch leaf", { i: 8 });
    else if (info.code === Opcode.MATMUL) at([base, 0, dst, CHUNK_WORDS, 64, 4, 16], "chunk 0 of a one-chunk row: 2 chunk + 2 leaf reads (weights, patch, bias, output), writes y[r]", { i: 5 });
    else if (info.code === Opcode.MAXPOOL || info.code === Opcode.AVGPOOL || info.code === Opcode.AVGPOOL_VALID) {
      at([image, dst, ...poolWindow], "the last kernel row, 33 words across two chunks: 2 chunk + 1 leaf reads, writes dst's leaf", {}, 1);
    }
    else if (isUnary(info.code)) at([src, dst, 8, 16, 16, ...params[info.operands.slice(5).join(",")]], "src ≠ dst, 8 words on the slow path: 2 leaf reads, writes dst's leaf");
    else throw new Error(`benchOpcodeGas has no worst case for ${info.name}`);
  }
  const out: OpcodeGas[] = [];
  for (const c of cases) {
    const filler = c.insn.opcode === Opcode.HALT ? [] : Array.from({ length: 6 }, () => c.insn);
    const program: Program = {
      memoryDepth: depth,
      flags: 0,
      inputLength: 784,
      outputAddress: dst,
      outputLength: 1,
      inputFrac: 16,
      outputFrac: 16,
      instructions: [c.insn, ...filler, { opcode: Opcode.HALT, args: [] }],
    };
    if (c.insn.opcode !== Opcode.HALT) validateProgram(program); // (a lone HALT's program is [HALT, HALT])
    const tree = new MemoryTree(program, words);
    let state = c.state;
    for (let k = 0; k < c.advance; k++) state = tree.apply(state);
    const w = tree.witness(state);
    const args = [toHex(tree.stateHash(state)), witnessArgs(w)];
    const { result, gasUsed } = await v.transact("verifyStep", args);
    if (result !== toHex(w.postStateHash)) throw new Error(`the verifier disagrees with the VM on ${opcodeInfo(c.insn.opcode)!.name}`);
    out.push({
      opcode: opcodeInfo(c.insn.opcode)!.name,
      step: c.step,
      gas: Number(gasUsed),
      calldataGas: Number(estimateCalldataGas(v.encode("verifyStep", args))),
      reads: w.reads.length,
    });
  }
  return out;
}

/** `npx tsx bench/gas.ts`: the per-opcode table. */
async function main(): Promise<void> {
  const rows = await benchOpcodeGas();
  console.log(`One-step verifier gas per opcode, worst-case step at memory depth ${OPCODE_BENCH_DEPTH} (a transaction: 21,000 + calldata + execution)`);
  console.log("  opcode          gas      calldata  reads  step");
  for (const r of rows) {
    console.log(`  ${r.opcode.padEnd(13)} ${r.gas.toLocaleString("en-US").padStart(8)}  ${r.calldataGas.toLocaleString("en-US").padStart(8)}  ${String(r.reads).padStart(5)}  ${r.step}`);
  }
  console.log(`  max ${Math.max(...rows.map((r) => r.gas)).toLocaleString("en-US")} gas`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
