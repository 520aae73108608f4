/**
 * The registry gives no one rights over a model: the id is the commitment, `registrant` is a record nothing
 * reads, and anyone may add a weights URI to a registered model (a wrong one costs a download whose commitment
 * does not match, nothing more).
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { FINAL, WINDOW, advance, deployProtocol, eventsIn, expectBondInvariant, expectRevert, finalArgs, honestClaim, modelStruct, postClaim, requestInference, type Deployment } from "./harness.js";

const model = mnist();
const modelId = model.meta.commitment;
const m = modelStruct(model);
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const view = honestClaim(trace);

let d: Deployment;
const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;

beforeAll(async () => {
  d = await deployProtocol();
});

describe("the model registry", () => {
  it("records who registered a model first, and refuses a second registration of the same id", async () => {
    const registrant = d.signers[5];
    const receipt = await (await as(d.registry, registrant).register({ ...m, registrant: await d.signers[7].getAddress() }, "ipfs://first")).wait();
    const [registered] = eventsIn(receipt, d.registry, "ModelRegistered");
    expect(registered.args.modelId).toBe(modelId);
    expect(registered.args.registrant).toBe(await registrant.getAddress());
    expect(registered.args.weightsURI).toBe("ipfs://first");
    // The registrant field passed in is ignored: the sender is recorded.
    expect((await d.registry.model(modelId)).registrant).toBe(await registrant.getAddress());
    expect(registered.args.model.registrant).toBe(await registrant.getAddress());
    for (const signer of [registrant, d.signers[0]]) {
      await expectRevert(as(d.registry, signer).register(m, "ipfs://again"), "ModelAlreadyRegistered", d.registry);
    }
  });

  it("anyone adds a weights URI to a registered model (WeightsURIAdded, with who added it); an unknown model: ModelUnknown", async () => {
    const by = d.signers[3];
    const receipt = await (await as(d.registry, by).addWeightsURI(modelId, "https://mirror.example/mnist-mlp.onnx")).wait();
    const [added] = eventsIn(receipt, d.registry, "WeightsURIAdded");
    expect([...added.args]).toEqual([modelId, await by.getAddress(), "https://mirror.example/mnist-mlp.onnx"]);
    // The registrant may too, and the same URI twice is just two events.
    await (await as(d.registry, d.signers[5]).addWeightsURI(modelId, "ipfs://first")).wait();
    await (await as(d.registry, by).addWeightsURI(modelId, "https://mirror.example/mnist-mlp.onnx")).wait();
    expect(await d.registry.queryFilter(d.registry.filters.WeightsURIAdded(modelId))).toHaveLength(3);
    const unknown = ethers.keccak256(ethers.toUtf8Bytes("no such model"));
    await expectRevert(as(d.registry, by).addWeightsURI(unknown, "ipfs://x"), "ModelUnknown", d.registry);
    await expectRevert(d.registry.addWeightsURI(ethers.ZeroHash, "ipfs://x"), "ModelUnknown", d.registry);
    // Adding a URI changes nothing stored.
    expect((await d.registry.model(modelId)).registrant).toBe(await d.signers[5].getAddress());
  });

  it("a layout that cannot run is refused: ModelLayoutInvalid", async () => {
    const dataBase = 2 ** (m.memoryDepth - 1) * 8;
    const bad = [
      { ...m, memoryDepth: 0 },
      { ...m, memoryDepth: 31 },
      { ...m, steps: 0 },
      { ...m, inputLength: 0 },
      { ...m, outputLength: 0 },
      { ...m, inputLength: dataBase + 1 },
      { ...m, outputAddress: dataBase - 1 },
      { ...m, outputAddress: 2 * dataBase - m.outputLength + 1 },
      { ...m, inputFrac: 25 },
      { ...m, outputFrac: 25 },
    ];
    for (const b of bad) await expectRevert(d.registry.register(b, ""), "ModelLayoutInvalid", d.registry);
  });

  it("nothing depends on the registrant: others request, claim and finalize, with any registrant field in the model", async () => {
    const { requestId } = await requestInference(d, modelId, input, ethers.ZeroAddress, d.signers[8]);
    const claimant = d.signers[1];
    const { claimId } = await postClaim(d, claimant, requestId, view, model); // registrant field: zero
    await advance(WINDOW + 1);
    // finalize() with the model's fields and a registrant that is neither zero nor the registrant.
    await (await as(d.oracle, d.signers[2]).finalize(claimId, { ...m, registrant: await d.signers[9].getAddress() }, ...finalArgs(view, model.meta.steps))).wait();
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
    expect(await d.oracle.credit(await claimant.getAddress())).toBe(await d.oracle.claimBond());
    // And a claim whose model names the real registrant works the same.
    const second = (await requestInference(d, modelId, input)).requestId;
    const withRegistrant = { ...m, registrant: await d.signers[5].getAddress() };
    const receipt = await (await as(d.oracle, claimant).claim(second, withRegistrant, ethers.hexlify(view.tree.root), ...finalArgs(view, model.meta.steps), { value: await d.oracle.claimBond() })).wait();
    expect(eventsIn(receipt, d.oracle, "Claimed")).toHaveLength(1);
    await expectBondInvariant(d);
  });
});
