/**
 * The golden witness fixtures (fixtures/witnesses/*.json): step witnesses of every step kind, from the
 * MNIST model and from a small random model with sigmoid and tanh, with the state hashes they prove between.
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
  return fixtures;
}
