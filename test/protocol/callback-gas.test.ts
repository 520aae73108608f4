/**
 * A callback cannot be starved: whoever sends finalize() chooses its gas limit, and a limit that leaves the
 * callback less than CALLBACK_GAS must not finalize the claim (the answer would be lost for good: the request is
 * fulfilled). The consumer here does its work in an inner call that needs 400,000 gas, so a callback given less
 * than ~410,000 fails. Every gas limit from 21,000 to 1,000,000 is tried on the same state (evm_snapshot and
 * evm_revert), with a fine sweep around the least limit that finalizes: each either fails with the claim still
 * open, or finalizes with the callback delivered.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../evm/artifacts.js";
import { decodeOutput } from "../../interpreter/run.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { FINAL, OPEN, WINDOW, advance, deployWithModel, eventsIn, expectBondInvariant, expectRevert, finalArgs, honestClaim, modelStruct, postClaim, provider, requestInference, type Deployment } from "./harness.js";

const model = mnist();
const m = modelStruct(model);
const N = model.meta.steps;
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const view = honestClaim(trace);
const prediction = decodeOutput(model.program, trace.output).prediction;

let d: Deployment;
let consumer: ethers.Contract;
let claimId: bigint;
let requestId: bigint;

beforeAll(async () => {
  d = await deployWithModel(model);
  const a = loadArtifact("GasNeedyConsumer");
  consumer = (await new ethers.ContractFactory(a.abi, a.bytecode, d.signers[0]).deploy()) as unknown as ethers.Contract;
  await consumer.waitForDeployment();
  ({ requestId } = await requestInference(d, model.meta.commitment, input, consumer.target as string));
  ({ claimId } = await postClaim(d, d.signers[1], requestId, view, model));
  await advance(WINDOW + 1);
});

type Outcome = { gasLimit: number; final: boolean; tooLow: boolean };

/** Sends finalize() with `gasLimit` and reads what it did, then puts the chain back as it was. */
async function tryFinalize(gasLimit: number): Promise<Outcome> {
  const snapshot = await provider.send("evm_snapshot", []);
  try {
    let final = false;
    let tooLow = false;
    try {
      const receipt = await (await d.oracle.finalize(claimId, m, ...finalArgs(view, N), { gasLimit })).wait();
      final = true;
      // Final: the callback must have been delivered, with its inner call given what it needs.
      expect(eventsIn(receipt, d.oracle, "Finalized")[0].args.callbackSucceeded, `gas limit ${gasLimit}`).toBe(true);
      expect(await consumer.answers(), `gas limit ${gasLimit}`).toBe(1n);
      expect(await consumer.lastDigit()).toBe(BigInt(prediction));
      expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
      expect((await d.oracle.getRequest(requestId)).fulfilled).toBe(true);
    } catch (error) {
      if (final) throw error;
      // Failed: nothing happened. (Too little for the intrinsic gas, out of gas, or refused before the callback.)
      expect((await d.oracle.getClaim(claimId)).status, `gas limit ${gasLimit}`).toBe(OPEN);
      expect((await d.oracle.getRequest(requestId)).fulfilled).toBe(false);
      expect(await consumer.answers()).toBe(0n);
      tooLow = await expectRevert(Promise.reject(error), "CallbackGasTooLow", d.oracle).then(
        () => true,
        () => false,
      );
    }
    return { gasLimit, final, tooLow };
  } finally {
    expect(await provider.send("evm_revert", [snapshot])).toBe(true);
  }
}

describe("finalize() at every gas limit", () => {
  it("the consumer's inner call fails on less than 400,000 gas, and succeeds with a full CALLBACK_GAS", async () => {
    expect(await consumer.NEEDED()).toBe(400_000n);
    expect(await d.oracle.CALLBACK_GAS()).toBe(500_000n);
    // Called directly with too little: Starved.
    await expectRevert(consumer.work(4, { gasLimit: 300_000 }), "Starved", consumer);
    // The callback itself (anyone may call this test consumer) is starved by a 420,000-gas transaction, fed by a full one.
    await expectRevert(consumer.onInference(requestId, model.meta.commitment, [4], { gasLimit: 420_000 }), "Starved", consumer);
    const snapshot = await provider.send("evm_snapshot", []);
    await (await consumer.onInference(requestId, model.meta.commitment, [4], { gasLimit: 21_000 + 500_000 })).wait();
    expect(await consumer.answers()).toBe(1n);
    await provider.send("evm_revert", [snapshot]);
    expect(await consumer.answers()).toBe(0n);
  });

  it("either fails with the claim open or finalizes with the callback delivered (21,000 … 1,000,000 by 10,000, ±20,000 by 500 around the least that finalizes)", async () => {
    const coarse: Outcome[] = [];
    for (let gasLimit = 21_000; gasLimit <= 1_000_000; gasLimit += 10_000) coarse.push(await tryFinalize(gasLimit));
    const threshold = coarse.find((o) => o.final)?.gasLimit;
    expect(threshold, "no gas limit up to 1,000,000 finalized").toBeDefined();
    // Above the least limit that finalizes, every limit finalizes (nothing else depends on the gas).
    expect(coarse.filter((o) => o.gasLimit >= threshold!).every((o) => o.final)).toBe(true);
    const fine: Outcome[] = [];
    for (let gasLimit = threshold! - 20_000; gasLimit <= threshold! + 20_000; gasLimit += 500) fine.push(await tryFinalize(gasLimit));
    const least = fine.find((o) => o.final)!.gasLimit;
    expect(fine.filter((o) => o.gasLimit >= least).every((o) => o.final)).toBe(true);
    // Just under the least: refused before the callback, by the gas check.
    const refused = [...coarse, ...fine].filter((o) => o.tooLow);
    expect(refused.length).toBeGreaterThan(0);
    expect(fine.filter((o) => !o.final && o.gasLimit >= least - 5_000).every((o) => o.tooLow)).toBe(true);
    expect(least).toBeGreaterThan(Number(await d.oracle.CALLBACK_GAS_NEEDED()));
    console.log(`finalize with a 400k-gas inner call: least gas limit that finalizes ${least} (CALLBACK_GAS_NEEDED ${await d.oracle.CALLBACK_GAS_NEEDED()}); ${coarse.length + fine.length} limits tried, ${refused.length} refused with CallbackGasTooLow`);

    // The state is as before the sweep; finalize for real.
    expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
    await expectBondInvariant(d);
    const receipt = await (await d.oracle.finalize(claimId, m, ...finalArgs(view, N), { gasLimit: least })).wait();
    expect(eventsIn(receipt, d.oracle, "Finalized")[0].args.callbackSucceeded).toBe(true);
    expect(await consumer.lastDigit()).toBe(BigInt(prediction));
    await expectBondInvariant(d);
  });
});
