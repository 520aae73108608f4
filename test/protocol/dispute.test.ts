import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { decodeOutput } from "../../interpreter/run.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { CHALLENGE_BOND, CLAIM_BOND, WINDOW, advance, deployProtocol, expectBondInvariant, expectRevert, finalArgs, honestClaim, inputLeaves, lyingClaim, modelStruct, playGame, postClaim, SPLIT_BITS, type Deployment } from "./harness.js";

const model = mnist();
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const honest = honestClaim(trace);
let d: Deployment;
let modelId: string;

beforeAll(async () => {
  d = await deployProtocol();
  const tx = await d.registry.register(modelStruct(model), "file://fixtures/models/mnist-mlp.onnx");
  await tx.wait();
  modelId = model.meta.commitment;
});

async function newRequest(): Promise<bigint> {
  const tx = await d.oracle.request(modelId, inputLeaves(input), ethers.ZeroAddress);
  const receipt = await tx.wait();
  return d.oracle.interface.parseLog(receipt.logs[0])!.args.requestId as bigint;
}

describe("a dispute on the Hardhat network", () => {
  it("the registry's model id is the compiler's commitment", async () => {
    expect((await d.registry.model(modelId)).steps).toBe(BigInt(model.meta.steps));
  });

  it("an honest claim, unchallenged, finalizes after the window and returns the bond", async () => {
    const requestId = await newRequest();
    const { claimId, gasUsed } = await postClaim(d, d.signers[1], requestId, honest, model);
    expect(gasUsed).toBeLessThanOrEqual(150_000n);
    await expectRevert(d.oracle.finalize(claimId, modelStruct(model), ...finalArgs(honest, trace.steps)), "ChallengeWindowOpen", d.oracle);
    await advance(WINDOW + 1);
    await (await d.oracle.finalize(claimId, modelStruct(model), ...finalArgs(honest, trace.steps))).wait();
    expect(await d.oracle.credit(await d.signers[1].getAddress())).toBe(CLAIM_BOND);
    expect(decodeOutput(model.program, trace.output).prediction).toBe(4); // PyTorch's first reference prediction too
    await expectBondInvariant(d);
  });

  it("a claim with a wrong output is challenged and loses in ⌈12 / m⌉ rounds; the challenger gets its bond and the unburned half of the claim bond", async () => {
    const requestId = await newRequest();
    const liar = lyingClaim(trace, trace.steps);
    const { claimId } = await postClaim(d, d.signers[2], requestId, liar, model);
    const tx = await (d.oracle.connect(d.signers[3]) as ethers.Contract).challenge(claimId, { value: CHALLENGE_BOND });
    const receipt = await tx.wait();
    const gameId = receipt.logs.map((l: ethers.Log) => d.oracle.interface.parseLog(l)).find((e: ethers.LogDescription | null) => e?.name === "Challenged")!.args.gameId as bigint;
    const gas = await playGame(d, gameId, { signer: d.signers[2], tree: liar.tree }, { signer: d.signers[3], tree: honest.tree, trace });
    expect(gas.length).toBe(2 * Math.ceil(12 / SPLIT_BITS) + 1);
    console.log(`the dispute's moves, gas: ${gas.map((g) => `${g.move} ${g.gasUsed}`).join(", ")}`);
    for (const move of gas.filter((g) => g.move !== "prove")) expect(move.gasUsed).toBeLessThanOrEqual(120_000n);
    expect((await d.oracle.getClaim(claimId)).status).toBe(2n); // Void
    expect(await d.oracle.credit(await d.signers[3].getAddress())).toBe(CLAIM_BOND / 2n + CHALLENGE_BOND);
    expect(await d.oracle.burned()).toBe(CLAIM_BOND / 2n);
    await expectBondInvariant(d);
  });
});
