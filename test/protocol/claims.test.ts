/**
 * The claimant lies and loses, every time: a wrong output, one wrong state at a step of every kind (and at s0, at
 * the last steps and in the padding), a wrong step count, a reveal that does not open the disputed node (or opens
 * it by the wrong number of levels), a final state that is not the last leaf — and every malformed claim the
 * oracle must refuse outright. A lone challenger that wins gets its bond back and the unburned half of the claim
 * bond; the other half is burned.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { TraceTree } from "../../challenger/trace-tree.js";
import { revealMove, roundsOf } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex, taggedHash, TAG } from "../../vm/hash.js";
import { decodeState, encodeState } from "../../vm/state.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  CLOCK,
  FINAL,
  OPEN,
  SPLIT_BITS,
  VOID,
  WINDOW,
  advance,
  chainTime,
  challengeClaim,
  deployProtocol,
  deployWithModel,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  finalArgs,
  descend,
  garbageLeaf,
  honestClaim,
  lyingClaim,
  modelStruct,
  playGame,
  position,
  postClaim,
  requestInference,
  revealedNodes,
  traceLeaves,
  turnOf,
  treeWithLeaf,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const model = mnist();
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const N = trace.steps;
const honest = honestClaim(trace);
// Another digit's run, on its own machine (a machine's trace is valid until it runs again).
const otherTrace = new WasmMachine(model).trace(mnistInput(1));
const modelId = model.meta.commitment;
const m = modelStruct(model);
const ROUNDS = roundsOf(trace.depth, SPLIT_BITS);
/** What a lone challenger that wins is credited: its bond back and the unburned half of the claim bond. */
const SOLE_WINNER_PAY = CHALLENGE_BOND + CLAIM_BOND / 2n;

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

/**
 * Posts `view`, challenges it with an honest challenger and plays the game; returns what happened, with what the
 * challenger was credited and what was burned meanwhile.
 */
async function disputeAndPlay(view: ClaimView, claimant = d.signers[1], challenger = d.signers[2]) {
  const requestId = await newRequest();
  const { claimId } = await postClaim(d, claimant, requestId, view, model);
  const challengerCredit = await d.oracle.credit(await challenger.getAddress());
  const burnedBefore = await d.oracle.burned();
  const { gameId } = await challengeClaim(d, challenger, claimId);
  const gas = await playGame(d, gameId, { signer: claimant, tree: view.tree }, { signer: challenger, tree: honest.tree, trace });
  // One choice a round; a reveal only where no earlier game (of this or another claim) revealed the node already.
  expect(gas.filter((g) => g.move === "choose")).toHaveLength(ROUNDS);
  expect(gas.filter((g) => g.move === "reveal").length).toBeLessThanOrEqual(ROUNDS);
  const proved = (await d.game.queryFilter(d.game.filters.Proved(gameId))).map((e) => (e as ethers.EventLog).args);
  const resolved = (await d.oracle.queryFilter(d.oracle.filters.GameResolved(claimId, gameId))).map((e) => (e as ethers.EventLog).args);
  const credited = (await d.oracle.credit(await challenger.getAddress())) - challengerCredit;
  const burned = (await d.oracle.burned()) - burnedBefore;
  return { requestId, claimId, gameId, gas, proved, resolved, credited, burned };
}

async function expectExactBalance() {
  await expectBondInvariant(d);
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
    expect(r.gas.length).toBe(2 * ROUNDS + 1); // the first game on d: every reveal is its own
    expect(r.proved).toHaveLength(1);
    expect(r.proved[0].step).toBe(BigInt(N)); // the HALT step s(N−1) → sN
    expect(r.proved[0].postState).toBe(toHex(trace.stateHash(N)));
    expect(r.proved[0].defenderWon).toBe(false);
    expect(r.resolved[0].defenderWon).toBe(false);
    expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
    expect(r.credited).toBe(SOLE_WINNER_PAY);
    expect(r.burned).toBe(CLAIM_BOND / 2n);
    expect((await d.oracle.queryFilter(d.oracle.filters.ClaimVoided(r.claimId))).length).toBe(1);
    const [settled] = await d.oracle.queryFilter(d.oracle.filters.ClaimSettled(r.claimId));
    expect([...(settled as ethers.EventLog).args]).toEqual([r.claimId, 1n, CLAIM_BOND / 2n, CLAIM_BOND / 2n]);
    // Paid at settlement: nothing left to collect.
    await expectRevert(d.oracle.collectReward(r.claimId, await d.signers[2].getAddress()), "NoReward", d.oracle);
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
      expect(r.credited).toBe(SOLE_WINNER_PAY);
      expect(r.burned).toBe(CLAIM_BOND / 2n);
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
      expect(r.proved).toHaveLength(1);
      expect(r.proved[0].step).toBe(BigInt(L));
      expect(r.proved[0].postState).toBe(toHex(trace.stateHash(L))); // the honest state the liar's leaf is not
      expect(r.proved[0].defenderWon).toBe(false);
      expect(r.resolved[0].defenderWon).toBe(false);
      expect((await d.oracle.getClaim(r.claimId)).status).toBe(VOID);
      expect(r.credited).toBe(SOLE_WINNER_PAY);
      expect(r.burned).toBe(CLAIM_BOND / 2n);
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
  it("reverts ChildrenMismatch or MoveMalformed, or opens it by levels no game asks for; the defender then runs out of clock and loses by timeout", async () => {
    // A deployment of its own: on d, earlier games revealed the honest tree's nodes already.
    const dep = await deployWithModel(model);
    const { requestId } = await requestInference(dep, modelId, input);
    const [claimant, challenger] = [dep.signers[1], dep.signers[2]];
    const { claimId } = await postClaim(dep, claimant, requestId, honest, model);
    const { gameId } = await challengeClaim(dep, challenger, claimId);
    const defenderGame = dep.game.connect(claimant) as ethers.Contract;
    const challengerGame = dep.game.connect(challenger) as ethers.Contract;

    // One honest round, then nodes that do not hash to the node (swapped, from another tree, or made up).
    await descend(dep, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: () => 9 }, SPLIT_BITS);
    const p = await position(dep, gameId);
    expect([p.depth, p.index, p.levels]).toEqual([SPLIT_BITS, 9, SPLIT_BITS]);
    const r = revealMove(honest.tree, p);
    const [node, nodes] = [toHex(r.node), r.nodes.map(toHex)];
    const other = revealMove(TraceTree.fromTrace(otherTrace), p).nodes.map(toHex);
    await expectRevert(defenderGame.reveal(node, p.levels, [nodes[1], nodes[0], ...nodes.slice(2)]), "ChildrenMismatch", dep.game);
    await expectRevert(defenderGame.reveal(node, p.levels, [...nodes.slice(0, 15), nodes[14]]), "ChildrenMismatch", dep.game);
    await expectRevert(defenderGame.reveal(node, p.levels, other), "ChildrenMismatch", dep.game);
    await expectRevert(defenderGame.reveal(node, p.levels, [...nodes.slice(0, 15), ethers.ZeroHash]), "ChildrenMismatch", dep.game);
    // Malformed counts: no levels, more levels than the split, or other than 2^levels nodes.
    await expectRevert(defenderGame.reveal(node, 0, [node]), "MoveMalformed", dep.game);
    await expectRevert(defenderGame.reveal(node, 0, []), "MoveMalformed", dep.game);
    await expectRevert(defenderGame.reveal(node, SPLIT_BITS + 1, Array.from({ length: 2 ** (SPLIT_BITS + 1) }, () => ethers.ZeroHash)), "MoveMalformed", dep.game);
    await expectRevert(defenderGame.reveal(node, p.levels, nodes.slice(0, 15)), "MoveMalformed", dep.game);
    await expectRevert(defenderGame.reveal(node, p.levels, [...nodes, nodes[0]]), "MoveMalformed", dep.game);
    await expectRevert(defenderGame.reveal(node, p.levels, nodes.slice(0, 8)), "MoveMalformed", dep.game);
    // The node opened by fewer levels: a true reveal (it hashes), but not the one the game waits for.
    const twoDown = Array.from({ length: 4 }, (_, k) => toHex(honest.tree.node(p.depth + 2, p.index * 4 + k)));
    await (await defenderGame.reveal(node, 2, twoDown)).wait();
    await expectRevert(defenderGame.reveal(node, 2, twoDown), "AlreadyRevealed", dep.game);
    expect(turnOf(await position(dep, gameId), await chainTime()).defenderToMove).toBe(true); // still the defender's move
    expect((await dep.game.status(gameId)).defenderToMove).toBe(true);
    await expectRevert(challengerGame.choose(gameId, twoDown, 1), "NotYourTurn", dep.game);

    // The same for the challenger's re-supplied nodes, once the node is revealed.
    await (await defenderGame.reveal(node, p.levels, nodes)).wait();
    expect([...(await revealedNodes(dep, p.node, p.levels))!]).toEqual(nodes);
    await expectRevert(challengerGame.choose(gameId, [nodes[1], nodes[0], ...nodes.slice(2)], 0), "ChildrenMismatch", dep.game);
    await expectRevert(challengerGame.choose(gameId, other, 0), "ChildrenMismatch", dep.game);
    await (await challengerGame.choose(gameId, nodes, 0)).wait();

    // The defender stalls, having only a mismatched reveal to give.
    const q = await position(dep, gameId);
    const next = revealMove(honest.tree, q);
    await expectRevert(defenderGame.reveal(toHex(next.node), next.levels, [...next.nodes.slice(1), next.nodes[0]].map(toHex)), "ChildrenMismatch", dep.game);
    await expectRevert(dep.game.timeout(gameId), "ClockRunning", dep.game);
    await advance(CLOCK + 1);
    const creditBefore = await dep.oracle.credit(await challenger.getAddress());
    const receipt = await (await (dep.game.connect(dep.signers[7]) as ethers.Contract).timeout(gameId)).wait();
    expect(eventsIn(receipt, dep.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect((await dep.oracle.getClaim(claimId)).status).toBe(VOID);
    expect((await dep.oracle.credit(await challenger.getAddress())) - creditBefore).toBe(SOLE_WINNER_PAY);
    expect(await dep.oracle.burned()).toBe(CLAIM_BOND / 2n);
    await expectRevert(dep.game.timeout(gameId), "GameNotActive", dep.game);
    await expectRevert(challengerGame.choose(gameId, nodes, 0), "GameNotActive", dep.game);
    // A reveal now is no move of any game: it is stored all the same (it may serve another game), and changes nothing.
    await (await defenderGame.reveal(toHex(next.node), next.levels, next.nodes.map(toHex))).wait();
    expect((await dep.game.game(gameId)).challengerWon).toBe(true);
    await expectBondInvariant(dep);
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
    // The registrant is not part of the id: any registrant field passes.
    await (await claimFrom(d.signers[1], claimArgs(requestId, honest, { model: { ...m, registrant: await d.signers[9].getAddress() } }))).wait();
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
