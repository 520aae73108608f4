/**
 * The WASM fast path: one kernel instance per model, for plain runs and traced runs, and step witnesses
 * generated from the traced run's checkpoints. It must agree bit for bit with the TypeScript reference
 * (interpreter/run.ts and interpreter/trace-reference.ts); the tests hold it to that.
 *
 * Checkpoints: every `checkpointInterval` steps (default 256) the traced run saves the registers and the data
 * region, which is all that changes (the model region is fixed). A witness for step k restores checkpoint
 * ⌊k / interval⌋, replays fewer than `interval` steps without hashing, rehashes the data region's small tree,
 * and reads the proofs. Memory: ⌈(N + 1) / interval⌉ · (40 + 4 · data words) bytes — for MNIST (N = 3503,
 * 1,024 data words) 14 checkpoints, 58 KB.
 *
 * Plain runs take the kernel's fast path (assembly/fast.ts): whole instructions in tight loops where a check made
 * once per model proves the result equals the steps' (no int64 clamp possible in a DENSE or MATMUL row, no write
 * landing on a later read), and the step function everywhere else; they leave the same memory, registers and
 * saturation counts as stepping (fast.test.ts). Traced runs and witness replays always step.
 *
 * Saturation: the kernel counts, per instruction, the values each run clamps (vm/step.ts StepResult.saturated
 * summed per pc); saturations() reports them for the last run, plain or traced (witness replays do not count).
 */
import { MlvmError } from "../../vm/errors.js";
import { CHUNK_WORDS, LEAF_WORDS, alignDown, dataBase } from "../../vm/memory.js";
import { opcodeInfo } from "../../vm/opcodes.js";
import { MAX_OPERANDS, dataExtent, encodeInstruction, instructionProof, programLevels, stepCount } from "../../vm/program.js";
import { type State, encodeState } from "../../vm/state.js";
import { step } from "../../vm/step.js";
import type { MemoryRead, ReadKind, StepWitness } from "../../vm/witness.js";
import { READ_HEIGHT, READ_WORDS } from "../../vm/witness.js";
import { type Executable, checkInput, readOutput } from "../run.js";
import { instantiateKernel } from "./load.js";

export const DEFAULT_CHECKPOINT_INTERVAL = 256;

/** The kernel exports this wrapper uses (i64 crosses the boundary as bigint). */
interface Kernel {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  setupMachine(depth: number, instructions: number, image: number, data: number): void;
  memoryPointer(): number;
  programPointer(): number;
  saturationsPointer(): number;
  resetMachine(): void;
  runSteps(limit: bigint): bigint;
  runFast(limit: bigint): bigint;
  setupFast(): void;
  fastStepsPointer(): number;
  fastPlansPointer(): number;
  planFast(): void;
  implementsOpcode(op: number): number;
  setupTrace(steps: number, interval: number): void;
  programRootPointer(): number;
  modelRootPointer(): number;
  memoryRootPointer(): number;
  runTraced(): bigint;
  traceRootPointer(): number;
  traceLeafPointer(k: number): number;
  traceProof(k: number, out: number): number;
  memoryProof(leafIndex: number, height: number, out: number): number;
  restoreCheckpoint(c: number): void;
  rebuildDataTree(): void;
  regStep: WebAssembly.Global;
  regPc: WebAssembly.Global;
  regI: WebAssembly.Global;
  regJ: WebAssembly.Global;
  regAcc: WebAssembly.Global;
  regAux: WebAssembly.Global;
  regHalted: WebAssembly.Global;
}

/** How many values one instruction clamped to int32 (or its accumulator to int64) in a run. */
export interface Saturation {
  pc: number;
  count: number;
}

/** The kernel did not reach the halted state in the program's step count: a bug, never bad input. */
export class KernelDivergenceError extends MlvmError {}

/** A program uses an opcode that the WASM kernel does not implement (the TypeScript interpreter runs it). */
export class UnsupportedOpcodeError extends MlvmError {}

/** A Trace used after its machine ran another input: its tree and checkpoints are gone. */
export class StaleTraceError extends MlvmError {}

export interface WasmMachineOptions {
  /** Steps between the traced run's checkpoints (default 256). */
  checkpointInterval?: number;
  /** Plain runs take the whole-instruction fast path where planned (default true); false steps every step. */
  fastPath?: boolean;
}

export class WasmMachine {
  readonly model: Executable;
  readonly steps: number;
  readonly checkpointInterval: number;
  readonly fastPath: boolean;
  private readonly kernel: Kernel;
  private readonly memoryPtr: number;
  private readonly dataWords: number;
  private traceReady = false;
  private generation = 0;
  private scratch = 0;
  private programLevels: Uint8Array[][] | undefined;

  constructor(model: Executable, { checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL, fastPath = true }: WasmMachineOptions = {}) {
    this.model = model;
    this.kernel = instantiateKernel() as unknown as Kernel;
    const { program, image } = model;
    program.instructions.forEach((insn, pc) => {
      if (!this.kernel.implementsOpcode(insn.opcode)) {
        const name = opcodeInfo(insn.opcode)?.name ?? `0x${insn.opcode.toString(16)}`;
        throw new UnsupportedOpcodeError(`instruction ${pc} is ${name}, which the WASM kernel does not run`);
      }
    });
    this.steps = stepCount(program);
    this.checkpointInterval = checkpointInterval;
    this.fastPath = fastPath;
    this.dataWords = dataExtent(program);
    this.kernel.setupMachine(program.memoryDepth, program.instructions.length, image.length, this.dataWords);
    this.memoryPtr = this.kernel.memoryPointer();
    this.words(0, image.length).set(image);
    const slots = new Int32Array(this.kernel.memory.buffer, this.kernel.programPointer(), program.instructions.length * (1 + MAX_OPERANDS));
    program.instructions.forEach((insn, k) => {
      slots[k * (1 + MAX_OPERANDS)] = insn.opcode;
      insn.args.forEach((a, j) => (slots[k * (1 + MAX_OPERANDS) + 1 + j] = a | 0));
    });
    // The fast path's tables: each instruction's step count (vm/opcodes.ts), then its plan, made from the image.
    this.kernel.setupFast();
    const steps = new BigInt64Array(this.kernel.memory.buffer, this.kernel.fastStepsPointer(), program.instructions.length);
    program.instructions.forEach((insn, k) => (steps[k] = BigInt(opcodeInfo(insn.opcode)!.steps(insn.args))));
    this.kernel.planFast();
  }

  /** @internal The instructions a plain run executes whole (assembly/fast.ts planFast), by pc: 0 stepped, 1 whole, 2 whole in blocks. */
  fastPlans(): number[] {
    return Array.from(new Int32Array(this.kernel.memory.buffer, this.kernel.fastPlansPointer(), this.model.program.instructions.length));
  }

  /** A plain run: the output region's words. */
  run(input: Int32Array): Int32Array {
    this.load(input);
    const limit = BigInt(this.steps) + 1n;
    const taken = Number(this.fastPath ? this.kernel.runFast(limit) : this.kernel.runSteps(limit));
    this.generation++;
    if (taken !== this.steps || !this.kernel.regHalted.value) {
      throw new KernelDivergenceError(`the run took ${taken} steps${this.kernel.regHalted.value ? "" : " without halting"}; the program declares ${this.steps}`);
    }
    return this.output();
  }

  /**
   * The instructions that saturated in the last run (plain or traced) and how many values each clamped, in pc
   * order; empty when nothing saturated or before the first run. The same counts as the TypeScript reference.
   */
  saturations(): Saturation[] {
    const counts = new Uint32Array(this.kernel.memory.buffer, this.kernel.saturationsPointer(), this.model.program.instructions.length);
    const out: Saturation[] = [];
    counts.forEach((count, pc) => {
      if (count > 0) out.push({ pc, count });
    });
    return out;
  }

  /** A traced run: every state hash, the trace tree and its checkpoints, valid until the next run. */
  trace(input: Int32Array): Trace {
    if (!this.traceReady) {
      this.kernel.setupTrace(this.steps, this.checkpointInterval);
      this.bytes(this.kernel.programRootPointer(), 32).set(this.programRoot());
      this.scratch = this.kernel.alloc(32 * 64);
      this.traceReady = true;
    }
    this.load(input);
    const taken = Number(this.kernel.runTraced());
    if (taken !== this.steps || !this.kernel.regHalted.value) {
      throw new KernelDivergenceError(`the traced run took ${taken} steps${this.kernel.regHalted.value ? "" : " without halting"}; the program declares ${this.steps}`);
    }
    this.generation++;
    return new Trace(this, this.generation, this.output());
  }

  /** The program tree is a few instructions: built in TypeScript, once. */
  private get levels(): Uint8Array[][] {
    this.programLevels ??= programLevels(this.model.program);
    return this.programLevels;
  }

  /** @internal */
  instructionProof(pc: number): Uint8Array[] {
    return instructionProof(this.levels, pc);
  }

  /** @internal */
  programRoot(): Uint8Array {
    return this.levels[this.levels.length - 1][0];
  }

  /** @internal Used by Trace. */
  checkGeneration(generation: number): void {
    if (generation !== this.generation) throw new StaleTraceError("this trace's machine has run another input since; trace again");
  }

  /** @internal The kernel's trace state, for Trace. */
  get raw(): Kernel {
    return this.kernel;
  }

  /** @internal Registers as vm/state.ts's State. */
  registers(): State {
    const k = this.kernel;
    return {
      step: Number(k.regStep.value),
      pc: k.regPc.value,
      i: k.regI.value,
      j: k.regJ.value,
      acc: BigInt.asIntN(64, k.regAcc.value),
      aux: k.regAux.value,
      halted: k.regHalted.value !== 0,
    };
  }

  /** @internal `n` 32-byte hashes the kernel wrote at the scratch buffer by `write(out)`. */
  hashesFrom(write: (out: number) => number): Uint8Array[] {
    const n = write(this.scratch);
    const bytes = this.bytes(this.scratch, 32 * n);
    return Array.from({ length: n }, (_, k) => bytes.slice(32 * k, 32 * k + 32));
  }

  /** @internal A copy of `n` bytes of kernel memory. */
  bytes(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.kernel.memory.buffer, ptr, n);
  }

  /** @internal A view of `n` memory words from `addr` (invalid after the kernel allocates). */
  words(addr: number, n: number): Int32Array {
    return new Int32Array(this.kernel.memory.buffer, this.memoryPtr + 4 * addr, n);
  }

  private load(input: Int32Array): void {
    checkInput(this.model.program, input);
    this.kernel.resetMachine();
    this.words(dataBase(this.model.program.memoryDepth), input.length).set(input);
  }

  private output(): Int32Array {
    return readOutput(this.model.program, this.words(0, dataBase(this.model.program.memoryDepth) + this.dataWords));
  }
}

/** A traced run: s0 … sN, the trace tree (padded to a power of two with sN), and step witnesses. */
export class Trace {
  readonly steps: number;
  readonly root: Uint8Array;
  readonly depth: number;

  constructor(private readonly machine: WasmMachine, private readonly generation: number, readonly output: Int32Array) {
    this.steps = machine.steps;
    this.root = machine.bytes(machine.raw.traceRootPointer(), 32).slice();
    this.depth = Math.ceil(Math.log2(this.steps + 1));
  }

  /** The model this trace ran. */
  get model(): Executable {
    return this.machine.model;
  }

  /** s_k's hash; past N, the padding repeats sN. */
  stateHash(k: number): Uint8Array {
    this.machine.checkGeneration(this.generation);
    this.checkLeaf(k);
    return this.machine.bytes(this.machine.raw.traceLeafPointer(Math.min(k, this.steps)), 32).slice();
  }

  /** The trace-tree siblings of leaf k, bottom-up. */
  proof(k: number): Uint8Array[] {
    this.machine.checkGeneration(this.generation);
    this.checkLeaf(k);
    return this.machine.hashesFrom((out) => this.machine.raw.traceProof(k, out));
  }

  /**
   * Everything the one-step verifier needs to check s_k → s_{k+1} (vm/witness.ts), from the nearest checkpoint;
   * k < 2^depth − 1, the last leaf having no successor.
   */
  witness(k: number): StepWitness {
    this.machine.checkGeneration(this.generation);
    this.checkLeaf(k + 1);
    const { machine } = this;
    const kernel = machine.raw;
    this.seek(k);
    const state = machine.registers();
    const programRoot = machine.programRoot();
    const memoryRoot = machine.bytes(kernel.memoryRootPointer(), 32).slice();
    const preState = encodeState(programRoot, memoryRoot, state);
    const postStateHash = this.stateHash(k + 1);
    if (state.halted) return { step: k, preState, instruction: new Uint8Array(0), instructionProof: [], reads: [], postStateHash };

    const insn = machine.model.program.instructions[state.pc];
    const recorded: { kind: ReadKind; address: number }[] = [];
    const record = (kind: ReadKind) => (address: number) => {
      recorded.push({ kind, address });
      return machine.words(address, READ_WORDS[kind]).slice();
    };
    step(state, insn, { readLeaf: record("leaf"), readChunk: record("chunk") });
    const reads: MemoryRead[] = recorded.map(({ kind, address }) => ({
      kind,
      address,
      words: machine.words(address, READ_WORDS[kind]).slice(),
      proof: machine.hashesFrom((out) => kernel.memoryProof(address / LEAF_WORDS, READ_HEIGHT[kind], out)),
    }));
    return { step: k, preState, instruction: encodeInstruction(insn), instructionProof: machine.instructionProof(state.pc), reads, postStateHash };
  }

  /**
   * The chunks (32 words, chunk-aligned) covering the output region in sN's memory, each with its path to sN's
   * memory root: what a claim proves its output with.
   */
  outputChunks(): { address: number; words: Int32Array; proof: Uint8Array[] }[] {
    this.machine.checkGeneration(this.generation);
    this.seek(this.steps);
    const { outputAddress, outputLength } = this.machine.model.program;
    const chunks = [];
    for (let address = alignDown(outputAddress, CHUNK_WORDS); address < outputAddress + outputLength; address += CHUNK_WORDS) {
      chunks.push({
        address,
        words: this.machine.words(address, CHUNK_WORDS).slice(),
        proof: this.machine.hashesFrom((out) => this.machine.raw.memoryProof(address / LEAF_WORDS, READ_HEIGHT.chunk, out)),
      });
    }
    return chunks;
  }

  /** Puts the kernel in state min(k, N), memory tree included: restore the checkpoint, replay, rehash. */
  private seek(k: number): void {
    const kernel = this.machine.raw;
    const at = Math.min(k, this.steps);
    const c = Math.floor(at / this.machine.checkpointInterval);
    kernel.restoreCheckpoint(c);
    kernel.runSteps(BigInt(at - c * this.machine.checkpointInterval));
    kernel.rebuildDataTree();
  }

  private checkLeaf(k: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= 2 ** this.depth) throw new RangeError(`step ${k} is outside the trace's ${2 ** this.depth} leaves`);
  }
}
