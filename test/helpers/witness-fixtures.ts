/**
 * The golden witness fixtures (fixtures/witnesses/*.json): step witnesses of every step kind, from the
 * MNIST model, from a small random model with sigmoid and tanh, and from the hand-built programs of
 * test/evm/traces-ops.ts (every elementwise op src ≠ dst over a partial leaf, one in place, ADD with dst = a,
 * dst = b and a = b, LAYERNORM's three passes, a DENSE row with its shift), with the state hashes they prove between.
 * Written by `npx tsx scripts/make-witness-fixtures.ts`; test/witness-fixtures.test.ts checks that the
 * TypeScript verifier accepts them and that regenerating them changes nothing, and the Solidity verifier's
 * tests replay the same files in the EVM.
 */
import { compileGraph } from "../../compiler/compile.js";
import { randomGraph, randomInput } from "../../datasets/synthetic.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { instructionStarts } from "../../vm/program.js";
import { type StepWitnessJson, witnessToJson } from "../../vm/witness.js";
import { MemoryTree } from "../../interpreter/witness-reference.js";
import { opcodeInfo } from "../../vm/opcodes.js";
import { INITIAL_STATE } from "../../vm/state.js";
import { Opcode, UNARY_OPCODES, opsProgram } from "../evm/traces-ops.js";
import { makeCnnWitnessFixtures } from "./witness-fixtures-cnn.js";
import { mnist, mnistInput } from "./models.js";

export interface WitnessFixture {
  name: string;
  description: string;
  model: string;
  preStateHash: string;
  postStateHash: string;
  witness: StepWitnessJson;
}

export function makeWitnessFixtures(): WitnessFixture[] {
  const fixtures: WitnessFixture[] = [];
  const collect = (prefix: string, model: ReturnType<typeof mnist>, input: Int32Array, steps: [string, number, string][]) => {
    const trace = new WasmMachine(model).trace(input);
    for (const [name, k, description] of steps) {
      fixtures.push({
        name: `${prefix}-${name}`,
        description,
        model: model.meta.commitment,
        preStateHash: toHex(trace.stateHash(k)),
        postStateHash: toHex(trace.stateHash(k + 1)),
        witness: witnessToJson(trace.witness(k)),
      });
    }
  };
  // MNIST (digit 8000): DENSE 0–3199 (128 rows × 25 chunks), RELU 3200–3215, DENSE 3216–3471, RELU 3472–3479,
  // DENSE 3480–3499, ARGMAX 3500–3501, HALT 3502; N = 3503, 4,096 trace leaves.
  collect("mnist", mnist(), mnistInput(8000), [
    ["first-step", 0, "step 0: the first DENSE chunk of row 0 (reads weights, input, bias)"],
    ["dense-chunk", 1, "a DENSE chunk inside a row: accumulates, no write"],
    ["dense-row-end", 24, "the last chunk of row 0 (16 inputs): rounds and stores y[0]"],
    ["relu", 3200, "the first RELU leaf"],
    ["relu-last", 3215, "the last RELU leaf: moves on to the next instruction"],
    ["dense-last-row-end", 3499, "the last step of the last DENSE layer"],
    ["argmax-first", 3500, "ARGMAX over logits 0–7"],
    ["argmax-last", 3501, "ARGMAX over logits 8–9, storing the prediction"],
    ["halt", 3502, "HALT: the last step, into the halted state sN"],
    ["halted", 4094, "past the end: the halted state steps to itself"],
  ]);
  const small = compileGraph(randomGraph(11, [37, 19, 3], ["tanh", "sigmoid"]));
  const starts = instructionStarts(small.program); // DENSE, TANH, DENSE, SIGMOID, ARGMAX, HALT
  collect("small", small, randomInput(5, 37, 4), [
    ["tanh", starts[1], "the first TANH leaf"],
    ["sigmoid", starts[3], "the first SIGMOID leaf"],
  ]);
  // The traces-ops programs (seed 1000 + opcode, as test/evm/traces-ops.test.ts): DENSE 0–12 (13 rows, shift), the
  // unary op h → g 13–14, in place 15–16, ADD h + g → g 17–18, ADD g + g → r 19–20, ADD r + x → r 21–22, LAYERNORM
  // r → r 23–28 (passes 0, 1, 2), DENSE 29–38, ARGMAX 39–40, HALT 41. n = 13: a second, partial leaf whose words 5–7
  // the destination keeps.
  const walk = (op: number, steps: [string, number, string][]) => {
    const p = opsProgram(op, 1000 + op);
    const tree = new MemoryTree(p.program, p.words);
    let state = INITIAL_STATE;
    for (const [name, k, description] of steps) {
      while (state.step < k) state = tree.apply(state);
      const witness = tree.witness(state);
      fixtures.push({
        name: `ops-${name}`,
        description,
        model: `test/evm/traces-ops.ts opsProgram(${opcodeInfo(op)!.name}, ${1000 + op}), program root ${toHex(tree.programRoot)}`,
        preStateHash: toHex(tree.stateHash(state)),
        postStateHash: toHex(witness.postStateHash),
        witness: witnessToJson(witness),
      });
    }
  };
  for (const op of UNARY_OPCODES) {
    const name = opcodeInfo(op)!.name.toLowerCase().replace("_", "-");
    walk(op, [[name, 14, `${opcodeInfo(op)!.name} src ≠ dst, the last (partial) leaf: reads src's leaf, then dst's, keeps dst's words past n`]]);
  }
  walk(Opcode.GELU, [
    ["dense-shift-row-end", 12, "the last row of a DENSE with a per-layer shift: rounds by the shift and stores"],
    ["gelu-in-place", 15, "GELU in place: one leaf read, written back"],
    ["add-dst-b", 17, "ADD with dst = b: reads a's leaf and b's, writes b's"],
    ["add-a-b", 20, "ADD with a = b (the last, partial leaf): the same leaf read twice, then dst's"],
    ["add-dst-a", 21, "ADD with dst = a and b in another format: reads a's leaf and b's, writes a's"],
    ["layernorm-mean", 24, "LAYERNORM's first pass ends: the mean goes to aux, the second pass starts"],
    ["layernorm-scale", 26, "LAYERNORM's second pass ends: the packed scale goes to acc"],
    ["layernorm-output", 27, "LAYERNORM's third pass, in place: reads src's leaf, gamma's and beta's, writes src's"],
  ]);
  fixtures.push(...makeCnnWitnessFixtures());
  return fixtures;
}
