/** Every step of full MNIST traces, replayed in the EVM (shared by the traces-*.test.ts files, run in parallel). */
import { expect } from "vitest";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { deployVerifier, evmPostState } from "./verifier.js";

export async function replayTraces(digits: number[]): Promise<number> {
  const verifier = await deployVerifier();
  const machine = new WasmMachine(mnist());
  let steps = 0;
  for (const digit of digits) {
    const trace = machine.trace(mnistInput(digit));
    for (let k = 0; k < trace.steps; k++) {
      const post = await evmPostState(verifier, trace.stateHash(k), trace.witness(k));
      if (post !== toHex(trace.stateHash(k + 1))) expect({ digit, step: k, post }).toEqual({ digit, step: k, post: toHex(trace.stateHash(k + 1)) });
      steps++;
    }
  }
  return steps;
}
