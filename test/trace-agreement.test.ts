/**
 * TS ≡ WASM on traced runs: for 200 MNIST digits, the WASM kernel's hash of every state s0 … sN equals the
 * hash the reference (vm/step.ts + vm/state.ts + @noble/hashes, interpreter/trace-reference.ts) computes.
 * ~700,000 state hashes in all; the slowest suite here (~12 s), kept in its own file so it runs in parallel.
 */
import { describe, expect, it } from "vitest";
import { referenceTrace } from "../interpreter/trace-reference.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { toHex } from "../vm/hash.js";
import { mnist, mnistInput } from "./helpers/models.js";

describe("every step's state hash, TS reference ≡ WASM kernel", () => {
  const model = mnist();
  const machine = new WasmMachine(model);

  it("on 200 MNIST digits (8000–8199)", () => {
    let compared = 0;
    for (let k = 8000; k < 8200; k++) {
      const input = mnistInput(k);
      const expected = referenceTrace(model, input);
      const trace = machine.trace(input);
      expect(trace.steps + 1).toBe(expected.length);
      for (let s = 0; s < expected.length; s++) {
        const ours = trace.stateHash(s);
        // compare bytes without building hex strings for every step; report the first divergence by step
        if (Buffer.compare(Buffer.from(ours), Buffer.from(expected[s])) !== 0) {
          expect({ digit: k, step: s, hash: toHex(ours) }).toEqual({ digit: k, step: s, hash: toHex(expected[s]) });
        }
        compared++;
      }
    }
    expect(compared).toBe(200 * (model.meta.steps + 1));
  });
});
