/** The full-inference gas baseline computes exactly what the VM computes (else its gas would compare nothing). */
import { describe, expect, it } from "vitest";
import { deployFullInference } from "../../bench/full-inference.js";
import { run } from "../../interpreter/run.js";
import { mnist, mnistInput } from "../helpers/models.js";

describe("the whole MNIST inference in the EVM", () => {
  it("gives the VM's logits and prediction, bit for bit", async () => {
    const model = mnist();
    const full = await deployFullInference(model);
    for (const digit of [8000, 8001]) {
      const input = mnistInput(digit);
      const vm = run(model, input).output;
      const evm = await full.infer(input);
      expect(evm.output).toEqual(Array.from(vm.subarray(0, 10)));
      expect(evm.prediction).toBe(vm[10]);
      expect(evm.gasUsed).toBeGreaterThan(1_000_000n);
    }
  }, 120_000);
});
