/**
 * Gas of the one-step verifier, as users pay it: every step of one MNIST trace sent as a real transaction to
 * OneStepVerifier in the in-process EVM (21,000 + calldata + execution), grouped by step kind; the sigmoid and
 * tanh steps of the golden fixtures; and the whole MNIST inference in the EVM for comparison.
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CompiledModel } from "../compiler/compile.js";
import { InProcessEvm, estimateCalldataGas } from "../evm/inprocess.js";
import { witnessArgs } from "../evm/witness-args.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { fromHex, toHex } from "../vm/hash.js";
import { Opcode, opcodeInfo } from "../vm/opcodes.js";
import { decodeState } from "../vm/state.js";
import { type StepWitness, type StepWitnessJson, witnessFromJson } from "../vm/witness.js";
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
  const maxStepGas = Math.max(...stepKinds.map((s) => s.maxGas));
  const full = await (await deployFullInference(model)).infer(input);
  return {
    stepKinds,
    maxStepGas,
    fullInferenceGas: Number(full.gasUsed),
    stepOverFullInference: maxStepGas / Number(full.gasUsed),
    evmNeuralNetworkGas: EVM_NEURAL_NETWORK_GAS,
  };
}

function witnessOpcode(w: StepWitness): number {
  return w.instruction[0];
}
