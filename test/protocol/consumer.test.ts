/**
 * Delivery: a DigitConsumer asks the oracle to classify MNIST digits and receives the VM's predictions once the
 * claims are final; consumers whose callback reverts or burns all its gas cannot block finalization, and no
 * caller can finalize while leaving the callback less than its gas (see callback-gas.test.ts for the sweep).
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../evm/artifacts.js";
import { decodeOutput } from "../../interpreter/run.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  WINDOW,
  advance,
  challengeClaim,
  deployProtocol,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  finalArgs,
  honestClaim,
  inputLeaves,
  lyingClaim,
  modelStruct,
  playGame,
  postClaim,
  provider,
  requestInference,
  OPEN,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const FINAL = 3n;
const VOID = 2n;

const model = mnist();
const modelId = model.meta.commitment;
const m = modelStruct(model);
const N = model.meta.steps;

/** One machine per digit: a machine's trace is valid until it runs again. */
function run(k: number) {
  const input = mnistInput(k);
  const trace = new WasmMachine(model).trace(input);
  return { input, trace, view: honestClaim(trace), prediction: decodeOutput(model.program, trace.output).prediction };
}

let d: Deployment;
let consumer: ethers.Contract;

async function deploy(name: string, ...args: unknown[]): Promise<ethers.Contract> {
  const a = loadArtifact(name);
  const contract = await new ethers.ContractFactory(a.abi, a.bytecode, d.signers[0]).deploy(...args);
  await contract.waitForDeployment();
  return contract as unknown as ethers.Contract;
}

beforeAll(async () => {
  d = await deployProtocol();
  await (await d.registry.register(m, "file://fixtures/models/mnist-mlp.onnx")).wait();
  consumer = await deploy("DigitConsumer", d.oracle.target, modelId);
});

async function classify(input: Int32Array) {
  const receipt = await (await consumer.classify(inputLeaves(input))).wait();
  const [requested] = eventsIn(receipt, d.oracle, "InferenceRequested");
  const [asked] = eventsIn(receipt, consumer, "Asked");
  expect(asked.args.requestId).toBe(requested.args.requestId);
  return { requestId: requested.args.requestId as bigint, requested };
}

/**
 * finalize() with a gas limit of its own: Hardhat's estimator (EDR 0.3.8, hardfork Osaka) cannot estimate a
 * finalize() whose callback returns early. The run at the gas it used reverts (CallbackGasTooLow: finalize needs
 * more gas left than it uses), and the binary search then probes half the 60M block gas limit, over Osaka's 2^24
 * per-transaction cap, which fails the whole estimate.
 */
async function finalize(claimId: bigint, view: ClaimView, overrides: ethers.Overrides = { gasLimit: 1_000_000 }) {
  const receipt = await (await d.oracle.finalize(claimId, m, ...finalArgs(view, N), overrides)).wait();
  return { receipt, finalized: eventsIn(receipt, d.oracle, "Finalized")[0].args };
}

describe("a DigitConsumer", () => {
  const digit = run(8000);

  it("classify() makes a request whose event carries the input leaves and s0", async () => {
    const { requestId, requested } = await classify(digit.input);
    expect(requestId).toBeGreaterThanOrEqual(1n);
    expect(requested.args.modelId).toBe(modelId);
    expect(requested.args.requester).toBe(consumer.target);
    expect(requested.args.callback).toBe(consumer.target);
    expect([...requested.args.input]).toEqual(inputLeaves(digit.input));
    expect(requested.args.input).toHaveLength(98);
    expect(requested.args.initialState).toBe(toHex(digit.trace.stateHash(0)));
    const stored = await d.oracle.getRequest(requestId);
    expect(stored.initialState).toBe(toHex(digit.trace.stateHash(0)));
    expect(stored.callback).toBe(consumer.target);
    expect(await consumer.asked(requestId)).toBe(true);
    expect(await consumer.answered(requestId)).toBe(false);
  });

  it("receives the VM's prediction (4 for digit 8000) when an honest claim finalizes", async () => {
    expect(digit.prediction).toBe(4);
    const { requestId } = await classify(digit.input);
    const claimant = d.signers[1];
    const { claimId } = await postClaim(d, claimant, requestId, digit.view, model);
    await advance(WINDOW + 1);
    const { receipt, finalized } = await finalize(claimId, digit.view);
    expect(finalized.callbackSucceeded).toBe(true);
    expect(finalized.requestId).toBe(requestId);
    const [answered] = eventsIn(receipt, consumer, "Answered");
    expect(answered.args.requestId).toBe(requestId);
    expect(answered.args.digit).toBe(4n);
    expect(await consumer.digitOf(requestId)).toBe(4n);
    expect(await consumer.answered(requestId)).toBe(true);
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
    expect(await d.oracle.credit(await claimant.getAddress())).toBe(CLAIM_BOND);
    await expectBondInvariant(d);
  });

  it("receives the right digit after a lying claim is voided and an honest one finalizes", async () => {
    const { requestId } = await classify(digit.input);
    const liar = lyingClaim(digit.trace, N);
    const first = await postClaim(d, d.signers[2], requestId, liar, model);
    const { gameId } = await challengeClaim(d, d.signers[3], first.claimId);
    await playGame(d, gameId, { signer: d.signers[2], tree: liar.tree }, { signer: d.signers[3], tree: digit.view.tree, trace: digit.trace });
    expect((await d.oracle.getClaim(first.claimId)).status).toBe(VOID);
    expect(await consumer.answered(requestId)).toBe(false);
    const second = await postClaim(d, d.signers[4], requestId, digit.view, model);
    expect(second.claimId).toBe((requestId << 32n) | 2n);
    await advance(WINDOW + 1);
    expect((await finalize(second.claimId, digit.view)).finalized.callbackSucceeded).toBe(true);
    expect(await consumer.digitOf(requestId)).toBe(4n);
    // The lone winner: its bond back and the unburned half of the claim bond.
    expect(await d.oracle.credit(await d.signers[3].getAddress())).toBe(CLAIM_BOND / 2n + CHALLENGE_BOND);
    expect(await d.oracle.burned()).toBe(CLAIM_BOND / 2n);
    await expectBondInvariant(d);
  });

  it("classifies several digits, each as the VM predicts", async () => {
    const runs = [0, 1, 2, 3, 7, 11].map(run);
    const ids: bigint[] = [];
    for (const r of runs) {
      const { requestId } = await classify(r.input);
      ids.push((await postClaim(d, d.signers[5], requestId, r.view, model)).claimId);
    }
    await advance(WINDOW + 1);
    for (const [k, r] of runs.entries()) {
      expect((await finalize(ids[k], r.view)).finalized.callbackSucceeded).toBe(true);
      expect(await consumer.digitOf(ids[k] >> 32n)).toBe(BigInt(r.prediction));
    }
    expect(new Set(runs.map((r) => r.prediction)).size).toBeGreaterThan(3);
  });

  it("cannot be starved of gas: at any gas limit, finalize either reverts (CallbackGasTooLow when short) and leaves the claim open, or delivers the answer", async () => {
    const { requestId } = await classify(digit.input);
    const { claimId } = await postClaim(d, d.signers[1], requestId, digit.view, model);
    await advance(WINDOW + 1);
    const outcomes: { gasLimit: number; delivered: boolean }[] = [];
    let tooLow = 0;
    // Every limit is tried on the same state: a snapshot before, reverted to after.
    for (let gasLimit = 60_000; gasLimit <= 1_000_000; gasLimit += 20_000) {
      const snapshot = await provider.send("evm_snapshot", []);
      try {
        const { finalized } = await finalize(claimId, digit.view, { gasLimit });
        outcomes.push({ gasLimit, delivered: finalized.callbackSucceeded });
        expect(await consumer.digitOf(requestId)).toBe(4n);
        expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
      } catch (error) {
        expect((await d.oracle.getClaim(claimId)).status, `gas ${gasLimit}`).toBe(OPEN);
        expect(await consumer.answered(requestId)).toBe(false);
        try {
          await expectRevert(Promise.reject(error), "CallbackGasTooLow", d.oracle);
          tooLow++;
        } catch {
          // Out of gas before the check, or after the callback: the transaction reverts as a whole.
        }
      }
      await provider.send("evm_revert", [snapshot]);
    }
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.delivered)).toBe(true);
    expect(outcomes[0].gasLimit).toBeGreaterThan(Number(await d.oracle.CALLBACK_GAS_NEEDED()));
    expect(tooLow).toBeGreaterThan(0);
    // And once for real.
    expect((await finalize(claimId, digit.view, { gasLimit: outcomes[0].gasLimit })).finalized.callbackSucceeded).toBe(true);
    expect(await consumer.digitOf(requestId)).toBe(4n);
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
  });

  it("accepts results only from the oracle, for requests it made, once each", async () => {
    await expectRevert(consumer.onInference(1n, modelId, [4]), "NotOracle", consumer);
    // A request made directly with the consumer as callback: the consumer refuses it, the claim is final anyway.
    const { requestId } = await requestInference(d, modelId, digit.input, consumer.target as string);
    const { claimId } = await postClaim(d, d.signers[6], requestId, digit.view, model);
    await advance(WINDOW + 1);
    const { finalized } = await finalize(claimId, digit.view);
    expect(finalized.callbackSucceeded).toBe(false);
    expect(await consumer.answered(requestId)).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
    await expectRevert(d.oracle.finalize(claimId, m, ...finalArgs(digit.view, N)), "ClaimNotOpen", d.oracle);
  });
});

describe("a consumer whose callback fails cannot block finalization", () => {
  const digit = run(8000);

  for (const name of ["RevertingConsumer", "GasHungryConsumer"]) {
    it(`${name}: finalize succeeds with callbackSucceeded = false; the claim is final and the bond credited`, async () => {
      const bad = await deploy(name);
      const { requestId } = await requestInference(d, modelId, digit.input, bad.target as string);
      const claimant = d.signers[7];
      const before = await d.oracle.credit(await claimant.getAddress());
      const { claimId } = await postClaim(d, claimant, requestId, digit.view, model);
      await advance(WINDOW + 1);
      // A generous gas limit, so that the callback really gets its whole allowance.
      const { receipt, finalized } = await finalize(claimId, digit.view, { gasLimit: 3_000_000 });
      expect(receipt.status).toBe(1);
      expect(finalized.callbackSucceeded).toBe(false);
      expect(finalized.claimId).toBe(claimId);
      if (name === "GasHungryConsumer") {
        expect(receipt.gasUsed).toBeGreaterThan(await d.oracle.CALLBACK_GAS()); // it burned its whole allowance
        expect(receipt.gasUsed).toBeLessThan(1_000_000n);
      }
      expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
      expect((await d.oracle.getRequest(requestId)).fulfilled).toBe(true);
      expect((await d.oracle.credit(await claimant.getAddress())) - before).toBe(CLAIM_BOND);
      // And the bond can be withdrawn.
      const w = await (await (d.oracle.connect(claimant) as ethers.Contract).withdraw()).wait();
      expect(eventsIn(w, d.oracle, "Withdrawn")[0].args.amount).toBe(before + CLAIM_BOND);
      await expectBondInvariant(d);
    });
  }

  it("a callback that has no code (an EOA): either request() refuses it, or finalize succeeds and pays the bond", async () => {
    // Otherwise the claim can never be final: its bond is locked and no one else may claim the request.
    const eoa = await d.signers[9].getAddress();
    expect(await provider.getCode(eoa)).toBe("0x");
    let requestId: bigint;
    try {
      requestId = (await requestInference(d, modelId, digit.input, eoa)).requestId;
    } catch {
      return; // refused at request time: nothing can get stuck
    }
    const claimant = d.signers[8];
    const before = await d.oracle.credit(await claimant.getAddress());
    const { claimId } = await postClaim(d, claimant, requestId, digit.view, model);
    await advance(WINDOW + 1);
    let finalized: ethers.Result | undefined;
    try {
      finalized = (await finalize(claimId, digit.view, { gasLimit: 3_000_000 })).finalized;
    } catch (error) {
      expect.fail(`finalize reverted for a request whose callback ${eoa} has no code: ${String((error as Error).message).slice(0, 120)}`);
    }
    expect(finalized!.callbackSucceeded).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
    expect((await d.oracle.credit(await claimant.getAddress())) - before).toBe(CLAIM_BOND);
  });

  it("GasHungryConsumer with a gas limit estimated by the node: still final", async () => {
    const bad = await deploy("GasHungryConsumer");
    const { requestId } = await requestInference(d, modelId, digit.input, bad.target as string);
    const { claimId } = await postClaim(d, d.signers[8], requestId, digit.view, model);
    await advance(WINDOW + 1);
    const { finalized } = await finalize(claimId, digit.view, {}); // no gas limit: the node estimates it
    expect(finalized.callbackSucceeded).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
  });
});
