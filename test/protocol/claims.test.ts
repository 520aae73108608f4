/**
 * The claimant lies and loses, every time: a wrong output, one wrong state at a step of every kind (and at s0, at
 * the last steps and in the padding), a wrong step count, a reveal that does not open the disputed node, a final
 * state that is not the last leaf — and every malformed claim the oracle must refuse outright.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { TraceTree } from "../../challenger/trace-tree.js";
import { revealMove } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex, taggedHash, TAG } from "../../vm/hash.js";
import { decodeState, encodeState } from "../../vm/state.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  CLOCK,
  WINDOW,
  advance,
  challengeClaim,
  deployProtocol,
  eventsIn,
  expectRevert,
  expectedBalance,
  finalArgs,
  garbageLeaf,
  honestClaim,
  lyingClaim,
  modelStruct,
  playGame,
  position,
  postClaim,
  provider,
  requestInference,
  traceLeaves,
  treeWithLeaf,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const VOID = 2n;
const FINAL = 3n;
const OPEN = 1n;

const model = mnist();
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const N = trace.steps;
const honest = honestClaim(trace);
// Another digit's run, on its own machine (a machine's trace is valid until it runs again).
const otherTrace = new WasmMachine(model).trace(mnistInput(1));
const modelId = model.meta.commitment;
const m = modelStruct(model);

let d: Deployment;
const proveGas = new Map<string, bigint>();

beforeAll(async () => {
  expect(N).toBe(3503);
  expect(trace.depth).toBe(12);
  d = await deployProtocol();
  await (await d.registry.register(m, "file://fixtures/models/mnist-mlp.onnx")).wait();
});

async function newRequest(): Promise<bigint> {
  return (await requestInference(d, modelId, input)).requestId;
}

function withTree(tree: TraceTree, view: ClaimView = honest): ClaimView {
  return { ...view, tree };
}

function claimArgs(requestId: bigint, view: ClaimView, overrides: { model?: typeof m; root?: string; finalState?: string; finalProof?: string[]; outputLeaves?: string[]; outputProofs?: string[][] } = {}) {
  const [finalState, finalProof, outputLeaves, outputProofs] = finalArgs(view, N);
  return [
    requestId,
    overrides.model ?? m,
    overrides.root ?? toHex(view.tree.root),
    overrides.finalState ?? finalState,
    overrides.finalProof ?? finalProof,
    overrides.outputLeaves ?? outputLeaves,
    overrides.outputProofs ?? outputProofs,
  ] as const;
}

function claimFrom(signer: ethers.Signer, args: ReturnType<typeof claimArgs>, value: bigint = CLAIM_BOND) {
  return (d.oracle.connect(signer) as ethers.Contract).claim(...args, { value });
}

/** Posts `view`, challenges it with an honest challenger and plays the game; returns what happened. */
async function disputeAndPlay(view: ClaimView, claimant = d.signers[1], challenger = d.signers[2]) {
  const requestId = await newRequest();
  const { claimId } = await postClaim(d, claimant, requestId, view, model);
  const challengerCredit = await d.oracle.credit(await challenger.getAddress());
  const { gameId } = await challengeClaim(d, challenger, claimId);
  const gas = await playGame(d, gameId, { signer: claimant, tree: view.tree }, { signer: challenger, tree: honest.tree, trace });
  const proved = (await d.game.queryFilter(d.game.filters.Proved(gameId))).map((e) => (e as ethers.EventLog).args);
  const resolved = (await d.oracle.queryFilter(d.oracle.filters.GameResolved(claimId, gameId))).map((e) => (e as ethers.EventLog).args);
  const credited = (await d.oracle.credit(await challenger.getAddress())) - challengerCredit;
  return { requestId, claimId, gameId, gas, proved, resolved, credited };
}

async function expectExactBalance() {
  expect(await provider.getBalance(d.oracle.target)).toBe(await expectedBalance(d));
}

/** The kind of step k (s_k → s_{k+1}) in the MNIST program, from the pre-state's pc. */
function stepKind(k: number): string {
  const s = decodeState(trace.witness(k).preState).state;
  if (s.halted) return "halted";
  return ["DENSE", "RELU", "DENSE", "RELU", "DENSE", "ARGMAX", "HALT"][s.pc];
}

describe("a claim with a wrong output", () => {
  it("is challenged, loses its game, is void, and its request reopens for an honest claim that finalizes", async () => {
    const liar = lyingClaim(trace, N);
    const r = await disputeAndPlay(liar);
    expect(r.gas.length).toBe(2 * 12 + 1);
    expect(r.proved).toHaveLength(1);
    expect(r.proved[0].step).toBe(BigInt(N)); // the HALT step s(N−1) → sN
    expect(r.proved[0].postState).toBe(toHex(trace.stateHash(N)));
    expect(r.proved[0].defenderWon).toBe(false);
    expect(r.resolved[0].defenderWon).toBe(false);
    expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
    expect(r.credited).toBe(CLAIM_BOND + CHALLENGE_BOND);
    expect((await d.oracle.queryFilter(d.oracle.filters.ClaimVoided(r.claimId))).length).toBe(1);
    const request = await d.oracle.getRequest(r.requestId);
    expect(request.liveAttempt).toBe(0n);
    expect(request.fulfilled).toBe(false);
    await expectExactBalance();

    // A void claim can be neither challenged nor finalized.
    await expectRevert((d.oracle.connect(d.signers[3]) as ethers.Contract).challenge(r.claimId, { value: CHALLENGE_BOND }), "ClaimNotOpen", d.oracle);
    await expectRevert(d.oracle.finalize(r.claimId, m, ...finalArgs(liar, N)), "ClaimNotOpen", d.oracle);

    // The request is open again: an honest claim is attempt 2 and finalizes after its window.
    const { claimId } = await postClaim(d, d.signers[4], r.requestId, honest, model);
    expect(claimId).toBe((r.requestId << 32n) | 2n);
    expect((await d.oracle.getRequest(r.requestId)).liveAttempt).toBe(2n);
    await advance(WINDOW + 1);
    const receipt = await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
    expect(eventsIn(receipt, d.oracle, "Finalized")[0].args.callbackSucceeded).toBe(true);
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
    expect((await d.oracle.getRequest(r.requestId)).fulfilled).toBe(true);
    expect(await d.oracle.credit(await d.signers[4].getAddress())).toBe(CLAIM_BOND);
    await expectRevert(claimFrom(d.signers[5], claimArgs(r.requestId, honest)), "RequestFulfilled", d.oracle);
    await expectExactBalance();
  });

  it("loses too when every state from step k on is garbage (lyingClaim(trace, k))", async () => {
    for (const k of [0, 1, 1777, 3216, N - 1]) {
      const r = await disputeAndPlay(lyingClaim(trace, k));
      expect(r.proved[0].step, `k = ${k}`).toBe(BigInt(k));
      expect(r.proved[0].defenderWon).toBe(false);
      expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
      expect(r.credited).toBe(CLAIM_BOND + CHALLENGE_BOND);
      await expectExactBalance();
    }
  });
});

describe("a claim with one wrong state and an honest output loses", () => {
  // Leaf L is garbage: the game ends at leaf L, where the verifier runs step L − 1 (leaf 0: the s0 check).
  const leaves: [number, string][] = [
    [0, "s0"],
    [1, "DENSE, first step"],
    [2, "DENSE, mid-row"],
    [25, "DENSE, row end"],
    [26, "DENSE, row start"],
    [1600, "DENSE, mid-layer"],
    [3200, "DENSE, last step of layer 1"],
    [3201, "RELU, first"],
    [3216, "RELU, last"],
    [3217, "DENSE, layer 2"],
    [3472, "DENSE, last of layer 2"],
    [3473, "RELU, layer 2"],
    [3481, "DENSE, layer 3"],
    [3500, "DENSE, last step"],
    [3501, "ARGMAX, first"],
    [N - 1, "ARGMAX, last (leaf N − 1)"],
    [N + 1, "halted (padding)"],
    [4095, "halted (last padding leaf)"],
  ];

  it("the step kinds are the ones listed", () => {
    expect(stepKind(0)).toBe("DENSE");
    expect(stepKind(3199)).toBe("DENSE");
    expect(stepKind(3200)).toBe("RELU");
    expect(stepKind(3215)).toBe("RELU");
    expect(stepKind(3216)).toBe("DENSE");
    expect(stepKind(3471)).toBe("DENSE");
    expect(stepKind(3472)).toBe("RELU");
    expect(stepKind(3479)).toBe("RELU");
    expect(stepKind(3480)).toBe("DENSE");
    expect(stepKind(3499)).toBe("DENSE");
    expect(stepKind(3500)).toBe("ARGMAX");
    expect(stepKind(3501)).toBe("ARGMAX");
    expect(stepKind(N - 1)).toBe("HALT");
    expect(stepKind(N)).toBe("halted");
  });

  for (const [L, label] of leaves) {
    it(`leaf ${L} (${label})`, async () => {
      if (L > 0) expect(label.startsWith(stepKind(L - 1))).toBe(true);
      const r = await disputeAndPlay(withTree(treeWithLeaf(trace, L)));
      expect(r.gas.length).toBe(2 * 12 + 1);
      expect(r.proved).toHaveLength(1);
      expect(r.proved[0].step).toBe(BigInt(L));
      expect(r.proved[0].postState).toBe(toHex(trace.stateHash(L))); // the honest state the liar's leaf is not
      expect(r.proved[0].defenderWon).toBe(false);
      expect(r.resolved[0].defenderWon).toBe(false);
      expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
      expect(r.credited).toBe(CLAIM_BOND + CHALLENGE_BOND);
      await expectExactBalance();
      const kind = L === 0 ? "s0" : stepKind(L - 1);
      const gas = r.gas.find((g) => g.move === "prove")!.gasUsed;
      if (gas > (proveGas.get(kind) ?? 0n)) proveGas.set(kind, gas);
    });
  }

  it("leaf N (the HALT step): only the output and sN are wrong", async () => {
    const r = await disputeAndPlay(lyingClaim(trace, N));
    expect(r.proved[0].step).toBe(BigInt(N));
    expect(r.proved[0].defenderWon).toBe(false);
    expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
    proveGas.set("HALT", r.gas.find((g) => g.move === "prove")!.gasUsed);
    await expectExactBalance();
  });

  it("s0 of another input (a real state, not garbage) loses at leaf 0", async () => {
    expect(toHex(otherTrace.stateHash(0))).not.toBe(toHex(trace.stateHash(0)));
    const r = await disputeAndPlay(withTree(treeWithLeaf(trace, 0, otherTrace.stateHash(0))));
    expect(r.proved[0].step).toBe(0n);
    expect(r.proved[0].postState).toBe(toHex(trace.stateHash(0))); // the s0 the oracle computed from the input
    expect(r.proved[0].defenderWon).toBe(false);
    expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
    await expectExactBalance();
  });

  it("a whole other run (another input's trace, this input's request) loses at leaf 0", async () => {
    const other = honestClaim(otherTrace);
    const r = await disputeAndPlay(other);
    expect(r.proved[0].step).toBe(0n);
    expect(r.proved[0].defenderWon).toBe(false);
    expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
    await expectExactBalance();
    console.log(`prove gas by step kind: ${[...proveGas].map(([k, g]) => `${k} ${g}`).join(", ")}`);
  });
});

describe("a claim with a wrong step count is refused", () => {
  const leaves = traceLeaves(trace).slice(0, N + 1);
  const sNminus1 = trace.witness(N - 1).preState; // the honest s(N−1): not halted, step N − 1
  const { programRoot, memoryRoot, state: sN } = decodeState(honest.finalState);

  it("s(N−1) proven at its own index N − 1", async () => {
    const requestId = await newRequest();
    const args = claimArgs(requestId, honest, { finalState: toHex(sNminus1), finalProof: honest.tree.path(0, N - 1, 12).map(toHex) });
    await expectRevert(claimFrom(d.signers[1], args), "FinalStateInvalid", d.oracle);
  });

  it("s(N−1) as leaf N of a tree that ends there", async () => {
    const requestId = await newRequest();
    const tree = new TraceTree([...leaves.slice(0, N), taggedHash(TAG.state, sNminus1)]);
    const view = { ...honest, tree, finalState: sNminus1 };
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, view)), "FinalStateInvalid", d.oracle);
  });

  it("a halted state at step N − 1 (a run one step short)", async () => {
    const requestId = await newRequest();
    const short = encodeState(programRoot, memoryRoot, { ...sN, step: N - 1 });
    const tree = new TraceTree([...leaves.slice(0, N - 1), taggedHash(TAG.state, short)]);
    const view = { ...honest, tree, finalState: short };
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, view, { finalProof: tree.path(0, N - 1, 12).map(toHex) })), "FinalStateInvalid", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, view)), "FinalStateInvalid", d.oracle);
  });

  it("a halted state at step N + 1 (a run one step long), at leaf N or N + 1", async () => {
    const requestId = await newRequest();
    const long = encodeState(programRoot, memoryRoot, { ...sN, step: N + 1 });
    const tree = new TraceTree([...leaves, taggedHash(TAG.state, long)]);
    const view = { ...honest, tree, finalState: long };
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, view, { finalProof: tree.path(0, N + 1, 12).map(toHex) })), "FinalStateInvalid", d.oracle);
    const atN = new TraceTree([...leaves.slice(0, N), taggedHash(TAG.state, long)]);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, { ...view, tree: atN })), "FinalStateInvalid", d.oracle);
  });

  it("the honest sN one leaf late (a tree with an extra state before it)", async () => {
    const requestId = await newRequest();
    const tree = new TraceTree([...leaves.slice(0, N), garbageLeaf(N), leaves[N]]);
    const view = withTree(tree);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, view, { finalProof: tree.path(0, N + 1, 12).map(toHex) })), "FinalStateNotLastLeaf", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, view)), "FinalStateNotLastLeaf", d.oracle);
  });

  it("a model whose step count is not the program's (its fields no longer hash to the model id)", async () => {
    const requestId = await newRequest();
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { model: { ...m, steps: N - 1 } })), "ModelMismatch", d.oracle);
  });

  it("a final state that is not halted, of another program, or not 97 bytes", async () => {
    const requestId = await newRequest();
    const notHalted = encodeState(programRoot, memoryRoot, { ...sN, halted: false });
    const otherProgram = encodeState(new Uint8Array(32).fill(7), memoryRoot, sN);
    for (const bad of [notHalted, otherProgram]) {
      const tree = treeWithLeaf(trace, N, taggedHash(TAG.state, bad));
      await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, { ...honest, tree, finalState: bad })), "FinalStateInvalid", d.oracle);
    }
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { finalState: toHex(honest.finalState.subarray(0, 96)) })), "FinalStateInvalid", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { finalState: toHex(Uint8Array.from([...honest.finalState, 0])) })), "FinalStateInvalid", d.oracle);
  });
});

describe("a reveal that does not open the disputed node", () => {
  it("reverts ChildrenMismatch; the defender then runs out of clock and loses by timeout", async () => {
    const requestId = await newRequest();
    const claimant = d.signers[1];
    const challenger = d.signers[2];
    const { claimId } = await postClaim(d, claimant, requestId, honest, model);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    const defenderGame = d.game.connect(claimant) as ethers.Contract;
    const challengerGame = d.game.connect(challenger) as ethers.Contract;

    // Two honest levels, then children that do not hash to the node (swapped, from another tree, or made up).
    for (let level = 0; level < 2; level++) {
      const p = await position(d, gameId);
      const { left, right } = revealMove(honest.tree, p);
      await (await defenderGame.reveal(gameId, toHex(left), toHex(right))).wait();
      await (await challengerGame.choose(gameId, toHex(left), toHex(right), level === 1)).wait();
    }
    const p = await position(d, gameId);
    expect(p.depth).toBe(2);
    const { left, right } = revealMove(honest.tree, p);
    const other = revealMove(TraceTree.fromTrace(otherTrace), p);
    await expectRevert(defenderGame.reveal(gameId, toHex(right), toHex(left)), "ChildrenMismatch", d.game);
    await expectRevert(defenderGame.reveal(gameId, toHex(other.left), toHex(other.right)), "ChildrenMismatch", d.game);
    await expectRevert(defenderGame.reveal(gameId, toHex(left), ethers.ZeroHash), "ChildrenMismatch", d.game);
    expect((await position(d, gameId)).turn).toBe(0); // still the defender's move

    // The same for the challenger's re-supplied pair.
    await (await defenderGame.reveal(gameId, toHex(left), toHex(right))).wait();
    await expectRevert(challengerGame.choose(gameId, toHex(right), toHex(left), false), "ChildrenMismatch", d.game);
    await (await challengerGame.choose(gameId, toHex(left), toHex(right), false)).wait();

    // The defender stalls, having only a mismatched reveal to give.
    const q = await position(d, gameId);
    const next = revealMove(honest.tree, q);
    await expectRevert(defenderGame.reveal(gameId, toHex(next.right), toHex(next.left)), "ChildrenMismatch", d.game);
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK + 1);
    await expectRevert(defenderGame.reveal(gameId, toHex(next.left), toHex(next.right)), "ClockExpired", d.game);
    const creditBefore = await d.oracle.credit(await challenger.getAddress());
    const receipt = await (await (d.game.connect(d.signers[7]) as ethers.Contract).timeout(gameId)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    expect((await d.oracle.credit(await challenger.getAddress())) - creditBefore).toBe(CLAIM_BOND + CHALLENGE_BOND);
    await expectRevert(d.game.timeout(gameId), "GameNotActive", d.game);
    await expectRevert(defenderGame.reveal(gameId, toHex(next.left), toHex(next.right)), "GameNotActive", d.game);
    await expectExactBalance();
  });
});

describe("a final state that is not the last leaf", () => {
  it("honest sN with a proof for another index, of the wrong length, or under another trace root", async () => {
    const requestId = await newRequest();
    const path = (k: number, levels = 12) => honest.tree.path(0, k, levels).map(toHex);
    for (const k of [N - 1, N + 1, N + 2, 0, 4095]) {
      await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { finalProof: path(k) })), "FinalStateNotLastLeaf", d.oracle);
    }
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { finalProof: path(N, 11) })), "FinalStateNotLastLeaf", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { finalProof: [...path(N), ethers.ZeroHash] })), "FinalStateNotLastLeaf", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { finalProof: [] })), "FinalStateNotLastLeaf", d.oracle);
    // A root that does not contain sN: another run's, or a tree whose leaf N is something else.
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { root: toHex(otherTrace.root) })), "FinalStateNotLastLeaf", d.oracle);
    const elsewhere = treeWithLeaf(trace, N, garbageLeaf(N));
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, withTree(elsewhere))), "FinalStateNotLastLeaf", d.oracle);
    // The honest arguments pass.
    await (await claimFrom(d.signers[1], claimArgs(requestId, honest))).wait();
  });
});

describe("malformed claims and requests", () => {
  it("a claim for an unknown request: RequestUnknown", async () => {
    const next = await d.oracle.nextRequestId();
    await expectRevert(claimFrom(d.signers[1], claimArgs(next, honest)), "RequestUnknown", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(0n, honest)), "RequestUnknown", d.oracle);
    await expectRevert(d.oracle.getRequest(next), "RequestUnknown", d.oracle);
  });

  it("a request for an unknown model: ModelUnknown, from the registry", async () => {
    const unknown = ethers.keccak256(ethers.toUtf8Bytes("no such model"));
    await expectRevert(d.oracle.request(unknown, [], ethers.ZeroAddress), "ModelUnknown", d.oracle, d.registry);
    await expectRevert(d.registry.model(unknown), "ModelUnknown", d.registry);
  });

  it("a malformed input: InputMalformed", async () => {
    const leaves = [...(await requestInference(d, modelId, input)).event.args.input] as string[];
    expect(leaves).toHaveLength(98);
    await expectRevert(d.oracle.request(modelId, leaves.slice(1), ethers.ZeroAddress), "InputMalformed", d.oracle);
    await expectRevert(d.oracle.request(modelId, [...leaves, ethers.ZeroHash], ethers.ZeroAddress), "InputMalformed", d.oracle);
  });

  it("model fields that do not hash to the request's model: ModelMismatch", async () => {
    const requestId = await newRequest();
    const variants = [
      { ...m, programRoot: ethers.ZeroHash },
      { ...m, modelRoot: toHex(otherTrace.root) },
      { ...m, memoryDepth: m.memoryDepth + 1 },
      { ...m, flags: m.flags ^ 1 },
      { ...m, inputLength: m.inputLength - 1 },
      { ...m, outputAddress: m.outputAddress + 1 },
      { ...m, outputLength: m.outputLength + 1 },
      { ...m, steps: N + 1 },
    ];
    for (const variant of variants) {
      await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, { model: variant })), "ModelMismatch", d.oracle);
    }
    // The owner is not part of the id: any owner field passes.
    await (await claimFrom(d.signers[1], claimArgs(requestId, honest, { model: { ...m, owner: await d.signers[9].getAddress() } }))).wait();
  });

  it("an output that sN's memory does not hold: OutputNotProven", async () => {
    const requestId = await newRequest();
    const [, , leaves, proofs] = finalArgs(honest, N);
    const flipWord = (leaf: string) => ethers.toBeHex(BigInt(leaf) ^ (1n << 200n), 32);
    const cases: { outputLeaves?: string[]; outputProofs?: string[][] }[] = [
      { outputLeaves: [flipWord(leaves[0]), ...leaves.slice(1)] }, // a wrong logit
      { outputLeaves: [leaves[0], flipWord(leaves[1]), ...leaves.slice(2)] }, // the prediction's leaf
      { outputLeaves: [...leaves.slice(0, 3), flipWord(leaves[3])] }, // a word of the chunk past the output
      { outputLeaves: [leaves[1], leaves[0], leaves[2], leaves[3]] }, // leaves swapped
      { outputLeaves: leaves.slice(0, 3) }, // a leaf missing
      { outputLeaves: [...leaves, ...leaves], outputProofs: [...proofs, ...proofs] }, // a chunk too many
      { outputLeaves: [], outputProofs: [] },
      { outputProofs: [proofs[0].slice(1)] }, // a proof too short
      { outputProofs: [[...proofs[0], ethers.ZeroHash]] }, // too long
      { outputProofs: [[ethers.ZeroHash, ...proofs[0].slice(1)]] }, // a wrong sibling
    ];
    // The honest output of another input, proven in that input's sN memory: not this sN's.
    const other = honestClaim(otherTrace);
    cases.push({ outputLeaves: other.outputLeaves, outputProofs: other.outputProofs });
    for (const c of cases) {
      await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest, c)), "OutputNotProven", d.oracle);
    }
  });

  it("a wrong bond: WrongBond", async () => {
    const requestId = await newRequest();
    for (const value of [0n, CHALLENGE_BOND, CLAIM_BOND - 1n, CLAIM_BOND + 1n, 2n * CLAIM_BOND]) {
      await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, honest), value), "WrongBond", d.oracle);
    }
    const { claimId } = await postClaim(d, d.signers[1], requestId, honest, model);
    for (const value of [0n, CHALLENGE_BOND - 1n, CLAIM_BOND]) {
      await expectRevert((d.oracle.connect(d.signers[2]) as ethers.Contract).challenge(claimId, { value }), "WrongBond", d.oracle);
    }
    await expectExactBalance();
  });

  it("a second claim while one is live: RequestAlreadyClaimed; a claim on a fulfilled request: RequestFulfilled", async () => {
    const requestId = await newRequest();
    const { claimId } = await postClaim(d, d.signers[1], requestId, honest, model);
    expect(claimId).toBe((requestId << 32n) | 1n);
    await expectRevert(claimFrom(d.signers[2], claimArgs(requestId, honest)), "RequestAlreadyClaimed", d.oracle);
    await expectRevert(claimFrom(d.signers[1], claimArgs(requestId, lyingClaim(trace, N))), "RequestAlreadyClaimed", d.oracle);
    // Still live after its window, until finalized.
    await advance(WINDOW + 1);
    await expectRevert(claimFrom(d.signers[2], claimArgs(requestId, honest)), "RequestAlreadyClaimed", d.oracle);
    await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
    await expectRevert(claimFrom(d.signers[2], claimArgs(requestId, honest)), "RequestFulfilled", d.oracle);
    await expectRevert(d.oracle.finalize(claimId, m, ...finalArgs(honest, N)), "ClaimNotOpen", d.oracle);
    await expectRevert(d.oracle.getClaim(claimId + 1n), "ClaimUnknown", d.oracle);
    await expectRevert((d.oracle.connect(d.signers[3]) as ethers.Contract).challenge(claimId + 1n, { value: CHALLENGE_BOND }), "ClaimUnknown", d.oracle);
    await expectExactBalance();
  });

  it("finalize re-proves the output: a lying output cannot be finalized with an honest claim's root", async () => {
    const requestId = await newRequest();
    const { claimId } = await postClaim(d, d.signers[1], requestId, honest, model);
    await advance(WINDOW + 1);
    const liar = lyingClaim(trace, N);
    const [, , lyingLeaves, lyingProofs] = finalArgs(liar, N);
    const [finalState, finalProof] = finalArgs(honest, N);
    await expectRevert(d.oracle.finalize(claimId, m, finalState, finalProof, lyingLeaves, lyingProofs), "OutputNotProven", d.oracle);
    await expectRevert(d.oracle.finalize(claimId, m, ...finalArgs(liar, N)), "FinalStateNotLastLeaf", d.oracle);
    await expectRevert(d.oracle.finalize(claimId, { ...m, steps: N - 1 }, ...finalArgs(honest, N)), "ModelMismatch", d.oracle);
    expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
    await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
  });
});
