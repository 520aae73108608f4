/**
 * The challenger lies and loses, every time: it plays a lying tree, descends into a child it agrees with, proves
 * with a bogus witness, or stalls; the defender wins and the claim stays open and finalizes. Also: both sides'
 * clocks, several games on one claim, the window, whose turn it is, the gas of a whole MNIST dispute, and
 * withdrawals — with the oracle's balance checked after every game.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { TraceTree } from "../../challenger/trace-tree.js";
import { chooseMove, revealMove, type Position } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
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
  proveArgs,
  provider,
  requestInference,
  treeWithLeaf,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const OPEN = 1n;
const VOID = 2n;
const FINAL = 3n;

const model = mnist();
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const N = trace.steps;
const DEPTH = trace.depth;
const honest = honestClaim(trace);
const modelId = model.meta.commitment;
const m = modelStruct(model);

let d: Deployment;
/** Every claim made on `d`, to finalize the open ones before the withdrawals. */
const claimsOnD: { claimId: bigint; view: ClaimView }[] = [];

beforeAll(async () => {
  d = await deployProtocol();
  await (await d.registry.register(m, "")).wait();
});

type Signer = ethers.Signer;
const addr = (s: Signer) => s.getAddress();
const as = (c: ethers.Contract, s: Signer) => c.connect(s) as ethers.Contract;

/**
 * Ends a game by timeout() against a stalled challenger (sent by `caller`) and checks the outcome every such
 * game must have: the defender wins and is credited the challenge bond, the claim stays open, balances are exact.
 */
async function expectDefenderWinsByTimeout(claimId: bigint, gameId: bigint, claimant: Signer, caller: Signer = d.signers[0]) {
  const before = await d.oracle.credit(await addr(claimant));
  const receipt = await (await as(d.game, caller).timeout(gameId)).wait();
  expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(true);
  expect((await d.oracle.credit(await addr(claimant))) - before).toBe(CHALLENGE_BOND);
  expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
  await expectExactBalance();
  return receipt;
}

async function expectExactBalance(dep: Deployment = d) {
  expect(await provider.getBalance(dep.oracle.target)).toBe(await expectedBalance(dep));
}

async function claimFor(dep: Deployment, claimant: Signer, view: ClaimView = honest) {
  const { requestId } = await requestInference(dep, modelId, input);
  const { claimId, gasUsed } = await postClaim(dep, claimant, requestId, view, model);
  if (dep === d) claimsOnD.push({ claimId, view });
  return { requestId, claimId, gasUsed };
}

/** A challenger's rule for picking a child: true = the right one. */
type Pick = (p: Position, left: Uint8Array, right: Uint8Array) => boolean;

/** The honest rule on `tree`: dispute the first child that differs. */
const disputeFirstDifference = (tree: TraceTree): Pick => (p, left) => chooseMove(tree, p, left);
/** The wrong rule: descend into a child it agrees with whenever it can. */
const descendIntoAgreement = (tree: TraceTree): Pick => (p, left, right) => {
  const leftAgrees = toHex(left) === toHex(tree.node(p.depth + 1, 2 * p.index));
  const rightAgrees = toHex(right) === toHex(tree.node(p.depth + 1, 2 * p.index + 1));
  return leftAgrees ? false : rightAgrees;
};

/** Reveal and choose until the game is at depth `until` (a leaf by default); returns the gas of every move. */
async function descend(dep: Deployment, gameId: bigint, defender: { signer: Signer; tree: TraceTree }, challenger: { signer: Signer; pick: Pick }, until = DEPTH) {
  const gas: { move: string; gasUsed: bigint }[] = [];
  for (;;) {
    const p = await position(dep, gameId);
    if (p.depth >= until) return gas;
    const { left, right } = revealMove(defender.tree, p);
    let receipt = await (await as(dep.game, defender.signer).reveal(gameId, toHex(left), toHex(right))).wait();
    gas.push({ move: "reveal", gasUsed: receipt.gasUsed });
    receipt = await (await as(dep.game, challenger.signer).choose(gameId, toHex(left), toHex(right), challenger.pick(p, left, right))).wait();
    gas.push({ move: "choose", gasUsed: receipt.gasUsed });
  }
}

async function prove(dep: Deployment, gameId: bigint, signer: Signer, tree: TraceTree = honest.tree) {
  const p = await position(dep, gameId);
  expect(p.depth).toBe(DEPTH);
  const receipt = await (await as(dep.game, signer).prove(gameId, ...proveArgs(tree, trace, p))).wait();
  return { receipt, proved: eventsIn(receipt, dep.game, "Proved")[0].args, resolved: eventsIn(receipt, dep.oracle, "GameResolved")[0].args };
}

describe("a challenger playing a lying tree against an honest claim", () => {
  for (const L of [0, 1, 1600, 3201, 3501, N, N + 1, 4095]) {
    it(`loses (its garbage leaf ${L}); the claimant takes its bond; the claim stays open and finalizes`, async () => {
      const claimant = d.signers[1];
      const challenger = d.signers[2];
      const { claimId } = await claimFor(d, claimant);
      const before = await d.oracle.credit(await addr(claimant));
      const { gameId } = await challengeClaim(d, challenger, claimId);
      expect((await d.oracle.getClaim(claimId)).openGames).toBe(1n);
      const lying = treeWithLeaf(trace, L);
      const gas = await playGame(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, tree: lying, trace });
      expect(gas).toHaveLength(2 * DEPTH + 1);
      const [proved] = await d.game.queryFilter(d.game.filters.Proved(gameId));
      expect((proved as ethers.EventLog).args.step).toBe(BigInt(L)); // it went where its lie is
      expect((proved as ethers.EventLog).args.defenderWon).toBe(true);
      const claim = await d.oracle.getClaim(claimId);
      expect(claim.status).toBe(OPEN);
      expect(claim.openGames).toBe(0n);
      expect((await d.oracle.credit(await addr(claimant))) - before).toBe(CHALLENGE_BOND);
      await expectExactBalance();

      await advance(WINDOW + 1);
      await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
      expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
      expect((await d.oracle.credit(await addr(claimant))) - before).toBe(CHALLENGE_BOND + CLAIM_BOND);
      await expectExactBalance();
    });
  }
});

describe("a challenger descending into a child it agrees with", () => {
  it("always agreeing (an honest tree, always the left child): ends at s0, and its own proof says the defender won", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[3]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: descendIntoAgreement(honest.tree) });
    expect((await position(d, gameId)).index).toBe(0);
    const { proved, resolved } = await prove(d, gameId, challenger);
    expect(proved.step).toBe(0n);
    expect(proved.defenderWon).toBe(true);
    expect(resolved.defenderWon).toBe(true);
    expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
    await expectExactBalance();
  });

  for (const L of [5, 2000, 3210, 3490, 3501]) {
    it(`disagreeing only at leaf ${L} but never going there: ends at an honest step, loses`, async () => {
      const [claimant, challenger] = [d.signers[1], d.signers[3]];
      const { claimId } = await claimFor(d, claimant);
      const { gameId } = await challengeClaim(d, challenger, claimId);
      const lying = treeWithLeaf(trace, L);
      await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: descendIntoAgreement(lying) });
      const p = await position(d, gameId);
      expect(p.index).not.toBe(L);
      // Anyone may prove; the honest witness shows the step is right.
      const { proved } = await prove(d, gameId, d.signers[8]);
      expect(proved.step).toBe(BigInt(p.index));
      expect(proved.postState).toBe(toHex(trace.stateHash(p.index)));
      expect(proved.defenderWon).toBe(true);
      expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
      await expectExactBalance();
    });
  }

  it("picking children at random, many times: always ends at an honest leaf and loses", async () => {
    let seed = 0x5eed;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0x100) !== 0;
    const [claimant, challenger] = [d.signers[1], d.signers[4]];
    const { claimId } = await claimFor(d, claimant);
    const before = await d.oracle.credit(await addr(claimant));
    const leaves = new Set<number>();
    for (let game = 0; game < 4; game++) {
      const { gameId } = await challengeClaim(d, challenger, claimId);
      await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: () => random() });
      const { proved } = await prove(d, gameId, challenger);
      leaves.add(Number(proved.step));
      expect(proved.defenderWon).toBe(true);
      await expectExactBalance();
    }
    expect(leaves.size).toBeGreaterThan(1);
    expect((await d.oracle.credit(await addr(claimant))) - before).toBe(4n * CHALLENGE_BOND);
  });

  it("refusing to prove at the leaf: ClockRunning, then ClockExpired for a late proof, then timeout — the defender wins", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[3]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: descendIntoAgreement(treeWithLeaf(trace, 1234)) });
    expect((await position(d, gameId)).turn).toBe(1); // at a leaf it stays the challenger's move
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK + 1);
    const p = await position(d, gameId);
    await expectRevert(as(d.game, challenger).prove(gameId, ...proveArgs(honest.tree, trace, p)), "ClockExpired", d.game);
    const receipt = await expectDefenderWinsByTimeout(claimId, gameId, claimant, d.signers[9]);
    expect(eventsIn(receipt, d.oracle, "GameResolved")[0].args.defenderWon).toBe(true);
  });
});

describe("a challenger submitting a bogus witness at the leaf", () => {
  it("is refused with the verifier's Witness* errors (or PreStateNotProven), then times out and loses", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[5]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    const L = 1600; // step 1599: a DENSE step (a row's end) with two chunk reads and a leaf read
    const lying = treeWithLeaf(trace, L);
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: disputeFirstDifference(lying) });
    const p = await position(d, gameId);
    expect(p.index).toBe(L);
    const [preHash, preProof, witness] = proveArgs(lying, trace, p);
    expect(witness.reads.map((r) => r.kind)).toEqual([1, 1, 0]);

    const flip = (hex: string, at = 0) => {
      const bytes = ethers.getBytes(hex);
      bytes[at] ^= 1;
      return ethers.hexlify(bytes);
    };
    const read = (k: number, change: Partial<(typeof witness.reads)[number]>) => witness.reads.map((r, j) => (j === k ? { ...r, ...change } : r));
    const cases: [string, typeof witness][] = [
      ["WitnessPreStateMismatch", { ...witness, preState: flip(witness.preState, 90) }],
      ["WitnessPreStateLength", { ...witness, preState: ethers.dataSlice(witness.preState, 0, 96) }],
      ["WitnessInstructionProofInvalid", { ...witness, instruction: flip(witness.instruction, 3) }],
      ["WitnessInstructionProofInvalid", { ...witness, instructionProof: [flip(witness.instructionProof[0]), ...witness.instructionProof.slice(1)] }],
      ["WitnessReadProofInvalid", { ...witness, reads: read(0, { leaves: [flip(witness.reads[0].leaves[0], 31), ...witness.reads[0].leaves.slice(1)] }) }],
      ["WitnessReadProofInvalid", { ...witness, reads: read(1, { proof: [flip(witness.reads[1].proof[0]), ...witness.reads[1].proof.slice(1)] }) }],
      ["WitnessReadProofInvalid", { ...witness, reads: read(2, { leaves: [flip(witness.reads[2].leaves[0], 31)] }) }],
      ["WitnessReadMismatch", { ...witness, reads: read(0, { addr: witness.reads[0].addr + 32 }) }],
      ["WitnessReadMismatch", { ...witness, reads: [witness.reads[1], witness.reads[0], witness.reads[2]] }],
      ["WitnessReadMissing", { ...witness, reads: witness.reads.slice(0, 2) }],
      ["WitnessReadsUnused", { ...witness, reads: [...witness.reads, witness.reads[2]] }],
    ];
    for (const [name, bogus] of cases) {
      await expectRevert(as(d.game, challenger).prove(gameId, preHash, preProof, bogus), name, d.verifier, d.game);
    }
    // The pre-state must be the agreed-left subtree's last leaf.
    const other = treeWithLeaf(trace, L - 1);
    await expectRevert(as(d.game, challenger).prove(gameId, toHex(other.leaf(L - 1)), other.path(0, L - 1, p.agreedHeight).map(toHex), witness), "PreStateNotProven", d.game);
    await expectRevert(as(d.game, challenger).prove(gameId, toHex(trace.stateHash(L - 2)), preProof, witness), "PreStateNotProven", d.game);
    expect(p.agreedHeight).toBe(6);
    await expectRevert(as(d.game, challenger).prove(gameId, preHash, preProof.slice(1), witness), "PreStateNotProven", d.game);
    await expectRevert(as(d.game, challenger).prove(gameId, preHash, [...preProof, ethers.ZeroHash], witness), "PreStateNotProven", d.game);
    expect((await position(d, gameId)).active).toBe(true);

    // Out of moves that could win, it stalls: its clock runs out and the defender wins.
    await advance(CLOCK + 1);
    await expectRevert(as(d.game, challenger).prove(gameId, preHash, preProof, witness), "ClockExpired", d.game);
    await expectDefenderWinsByTimeout(claimId, gameId, claimant);
  });
});

describe("clocks", () => {
  it("a challenger stalling mid-game: ClockRunning too early, ClockExpired for a late move, timeout — the defender wins", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[6]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: () => true }, 5);
    const p = await position(d, gameId);
    const { left, right } = revealMove(honest.tree, p);
    await (await as(d.game, claimant).reveal(gameId, toHex(left), toHex(right))).wait();
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK - 60);
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(61);
    await expectRevert(as(d.game, challenger).choose(gameId, toHex(left), toHex(right), true), "ClockExpired", d.game);
    await expectDefenderWinsByTimeout(claimId, gameId, claimant);
  });

  it("a chess clock: each party's time is the sum over its own moves, and only the mover's clock runs", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[6]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    const reveal = async () => {
      const { left, right } = revealMove(honest.tree, await position(d, gameId));
      await (await as(d.game, claimant).reveal(gameId, toHex(left), toHex(right))).wait();
      return { left, right };
    };
    await advance(1000); // the defender thinks for 1000 s
    let { left, right } = await reveal();
    let g = await d.game.game(gameId);
    expect(Number(g.defenderClock)).toBeLessThanOrEqual(CLOCK - 1000);
    expect(Number(g.defenderClock)).toBeGreaterThan(CLOCK - 1010);
    expect(g.challengerClock).toBe(BigInt(CLOCK));
    await advance(1000); // the challenger thinks for 1000 s
    await (await as(d.game, challenger).choose(gameId, toHex(left), toHex(right), true)).wait();
    g = await d.game.game(gameId);
    expect(Number(g.challengerClock)).toBeLessThanOrEqual(CLOCK - 1000);
    await advance(700); // the defender has about 790 s left: still on time
    ({ left, right } = await reveal());
    await advance(900); // the challenger has about 790 s left: late
    await expectRevert(as(d.game, challenger).choose(gameId, toHex(left), toHex(right), true), "ClockExpired", d.game);
    const receipt = await (await d.game.timeout(gameId)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(true);
    await expectExactBalance();
  });

  it("a defender that never reveals loses, even with an honest claim: the claim is void and its request reopens", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[7]];
    const { requestId, claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK + 1);
    const { left, right } = revealMove(honest.tree, await position(d, gameId));
    await expectRevert(as(d.game, claimant).reveal(gameId, toHex(left), toHex(right)), "ClockExpired", d.game);
    const before = await d.oracle.credit(await addr(challenger));
    const receipt = await (await d.game.timeout(gameId)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect(eventsIn(receipt, d.oracle, "ClaimVoided")).toHaveLength(1);
    expect((await d.oracle.credit(await addr(challenger))) - before).toBe(CLAIM_BOND + CHALLENGE_BOND);
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    expect((await d.oracle.getRequest(requestId)).liveAttempt).toBe(0n);
    await expectExactBalance();
  });

  it("a lying defender that stops revealing mid-game loses by timeout", async () => {
    const [claimant, challenger] = [d.signers[2], d.signers[7]];
    const liar = lyingClaim(trace, 2500);
    const { claimId } = await claimFor(d, claimant, liar);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: liar.tree }, { signer: challenger, pick: disputeFirstDifference(honest.tree) }, 7);
    await advance(CLOCK + 1);
    const receipt = await (await d.game.timeout(gameId)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    await expectExactBalance();
  });
});

describe("several games on one claim, the window, and whose turn it is", () => {
  it("two lying challengers contest one honest claim; it cannot finalize while a game is open, even after the window", async () => {
    const dep = await deployProtocol({ window: 300 });
    await (await dep.registry.register(m, "")).wait();
    const [claimant, c1, c2, late] = [dep.signers[1], dep.signers[2], dep.signers[3], dep.signers[4]];
    const { claimId } = await claimFor(dep, claimant);
    await expectRevert(as(dep.oracle, claimant).challenge(claimId, { value: CHALLENGE_BOND }), "ChallengerIsClaimant", dep.oracle);
    const g1 = (await challengeClaim(dep, c1, claimId)).gameId;
    const g2 = (await challengeClaim(dep, c2, claimId)).gameId;
    expect(g2).toBe(g1 + 1n);
    expect((await dep.oracle.gameClaim(g2)).challenger).toBe(await addr(c2));
    expect((await dep.oracle.getClaim(claimId)).openGames).toBe(2n);

    await playGame(dep, g1, { signer: claimant, tree: honest.tree }, { signer: c1, tree: treeWithLeaf(trace, 777), trace });
    await expectExactBalance(dep);
    await expectRevert(dep.oracle.finalize(claimId, m, ...finalArgs(honest, N)), "ChallengeWindowOpen", dep.oracle);
    // Game 2 to its leaf, then past the window (the challenger's clock is the one running, with time to spare).
    await descend(dep, g2, { signer: claimant, tree: honest.tree }, { signer: c2, pick: disputeFirstDifference(treeWithLeaf(trace, 3333)) });
    await advance(301);
    await expectRevert(as(dep.oracle, late).challenge(claimId, { value: CHALLENGE_BOND }), "ChallengeWindowClosed", dep.oracle);
    await expectRevert(dep.oracle.finalize(claimId, m, ...finalArgs(honest, N)), "GamesOpen", dep.oracle);
    const { proved } = await prove(dep, g2, c2, treeWithLeaf(trace, 3333));
    expect(proved.defenderWon).toBe(true);
    expect((await dep.oracle.getClaim(claimId)).openGames).toBe(0n);
    await (await dep.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
    expect((await dep.oracle.getClaim(claimId)).status).toBe(FINAL);
    expect(await dep.oracle.credit(await addr(claimant))).toBe(CLAIM_BOND + 2n * CHALLENGE_BOND);
    expect(await dep.oracle.credit(await addr(c1))).toBe(0n);
    expect(await dep.oracle.credit(await addr(c2))).toBe(0n);
    await expectExactBalance(dep);
  });

  it("the window's edges: a challenge at the deadline is in time, one a second later is not; finalize needs the deadline passed", async () => {
    const [claimant, c1, c2] = [d.signers[1], d.signers[2], d.signers[3]];
    const { claimId } = await claimFor(d, claimant);
    const deadline = Number((await d.oracle.getClaim(claimId)).deadline);
    const at = (t: number) => provider.send("evm_setNextBlockTimestamp", [t]);
    await at(deadline);
    const { gameId } = await challengeClaim(d, c1, claimId);
    expect((await provider.getBlock("latest"))!.timestamp).toBe(deadline);
    await at(deadline + 1);
    await expectRevert(as(d.oracle, c2).challenge(claimId, { value: CHALLENGE_BOND }), "ChallengeWindowClosed", d.oracle);
    await playGame(d, gameId, { signer: claimant, tree: honest.tree }, { signer: c1, tree: treeWithLeaf(trace, 42), trace });
    await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);

    const second = await claimFor(d, claimant);
    const deadline2 = Number((await d.oracle.getClaim(second.claimId)).deadline);
    await at(deadline2);
    await expectRevert(d.oracle.finalize(second.claimId, m, ...finalArgs(honest, N)), "ChallengeWindowOpen", d.oracle);
    await advance(1);
    await (await d.oracle.finalize(second.claimId, m, ...finalArgs(honest, N))).wait();
    await expectExactBalance();
  });

  it("against a lying claim: the first honest challenger to win takes the claim bond, a second gets its own bond back, a lazy one loses its bond", async () => {
    const dep = await deployProtocol();
    await (await dep.registry.register(m, "")).wait();
    const [claimant, first, second, lazy] = [dep.signers[1], dep.signers[2], dep.signers[3], dep.signers[4]];
    const liar = lyingClaim(trace, N);
    const { claimId } = await claimFor(dep, claimant, liar);
    const gFirst = (await challengeClaim(dep, first, claimId)).gameId;
    const gSecond = (await challengeClaim(dep, second, claimId)).gameId;
    const gLazy = (await challengeClaim(dep, lazy, claimId)).gameId;
    await playGame(dep, gFirst, { signer: claimant, tree: liar.tree }, { signer: first, tree: honest.tree, trace });
    expect((await dep.oracle.getClaim(claimId)).status).toBe(VOID);
    await expectRevert(as(dep.oracle, dep.signers[5]).challenge(claimId, { value: CHALLENGE_BOND }), "ClaimNotOpen", dep.oracle);
    // The games against a void claim go on.
    await playGame(dep, gSecond, { signer: claimant, tree: liar.tree }, { signer: second, tree: honest.tree, trace });
    await descend(dep, gLazy, { signer: claimant, tree: liar.tree }, { signer: lazy, pick: disputeFirstDifference(honest.tree) }, 3);
    const { left, right } = revealMove(liar.tree, await position(dep, gLazy));
    await (await as(dep.game, claimant).reveal(gLazy, toHex(left), toHex(right))).wait();
    await advance(CLOCK + 1);
    await (await dep.game.timeout(gLazy)).wait();
    expect(await dep.oracle.credit(await addr(first))).toBe(CLAIM_BOND + CHALLENGE_BOND);
    expect(await dep.oracle.credit(await addr(second))).toBe(CHALLENGE_BOND);
    expect(await dep.oracle.credit(await addr(lazy))).toBe(0n);
    expect(await dep.oracle.credit(await addr(claimant))).toBe(CHALLENGE_BOND);
    expect((await dep.oracle.getClaim(claimId)).openGames).toBe(0n);
    expect((await dep.oracle.queryFilter(dep.oracle.filters.ClaimVoided(claimId))).length).toBe(1);
    await expectExactBalance(dep);
  });

  it("moves out of turn, out of phase, by strangers, or after the end are refused", async () => {
    const [claimant, challenger, stranger] = [d.signers[1], d.signers[2], d.signers[9]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    let p = await position(d, gameId);
    let { left, right } = revealMove(honest.tree, p);
    const [l, r] = [toHex(left), toHex(right)];
    await expectRevert(as(d.game, challenger).reveal(gameId, l, r), "NotYourTurn", d.game);
    await expectRevert(as(d.game, stranger).reveal(gameId, l, r), "NotYourTurn", d.game);
    await expectRevert(as(d.game, claimant).choose(gameId, l, r, true), "NotYourTurn", d.game);
    await expectRevert(as(d.game, challenger).choose(gameId, l, r, true), "NotYourTurn", d.game);
    await expectRevert(as(d.game, claimant).prove(gameId, ...proveArgs(honest.tree, trace, { ...p, depth: DEPTH, index: 1 })), "WrongPhase", d.game);
    await (await as(d.game, claimant).reveal(gameId, l, r)).wait();
    await expectRevert(as(d.game, claimant).reveal(gameId, l, r), "NotYourTurn", d.game);
    await expectRevert(as(d.game, stranger).choose(gameId, l, r, true), "NotYourTurn", d.game);
    await expectRevert(as(d.game, claimant).choose(gameId, l, r, true), "NotYourTurn", d.game);
    await (await as(d.game, challenger).choose(gameId, l, r, true)).wait();
    await expectRevert(as(d.game, challenger).choose(gameId, l, r, true), "NotYourTurn", d.game);

    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: () => true });
    p = await position(d, gameId);
    expect(p.index).toBe(2 ** DEPTH - 1);
    ({ left, right } = { left: honest.tree.leaf(p.index), right: honest.tree.leaf(p.index) });
    await expectRevert(as(d.game, claimant).reveal(gameId, toHex(left), toHex(right)), "NotYourTurn", d.game);
    await expectRevert(as(d.game, challenger).choose(gameId, toHex(left), toHex(right), true), "WrongPhase", d.game);
    // Anyone may prove at the leaf.
    const { proved } = await prove(d, gameId, stranger);
    expect(proved.defenderWon).toBe(true);
    await expectRevert(as(d.game, challenger).prove(gameId, ...proveArgs(honest.tree, trace, p)), "GameNotActive", d.game);
    await expectRevert(d.game.timeout(gameId), "GameNotActive", d.game);
    await expectRevert(as(d.game, claimant).reveal(gameId, l, r), "GameNotActive", d.game);
    await expectExactBalance();
  });

  it("only the oracle starts games, and only the game reports results", async () => {
    const [a, b] = [await addr(d.signers[1]), await addr(d.signers[2])];
    await expectRevert(d.game.start(1n << 32n, a, b, toHex(honest.tree.root), DEPTH, toHex(trace.stateHash(0))), "NotOracle", d.game);
    await expectRevert(d.oracle.onGameResolved(0n, false), "NotGame", d.oracle);
  });
});

describe("gas", () => {
  it("every reveal and choose ≤ 80,000; a whole MNIST dispute ≤ 2,000,000", async () => {
    const rows: { label: string; claim: bigint; challenge: bigint; moves: bigint[]; prove: bigint; total: bigint }[] = [];
    const cases: [string, ClaimView][] = [
      ["s0", { ...honest, tree: treeWithLeaf(trace, 0) }],
      ["DENSE mid-row", { ...honest, tree: treeWithLeaf(trace, 1601) }],
      ["DENSE row end", { ...honest, tree: treeWithLeaf(trace, 25) }],
      ["RELU", { ...honest, tree: treeWithLeaf(trace, 3201) }],
      ["DENSE layer 3", { ...honest, tree: treeWithLeaf(trace, 3490) }],
      ["ARGMAX", { ...honest, tree: treeWithLeaf(trace, 3501) }],
      ["HALT (wrong output)", lyingClaim(trace, N)],
      ["padding", { ...honest, tree: treeWithLeaf(trace, 4000, garbageLeaf(4000, 1)) }],
    ];
    for (const [label, view] of cases) {
      const [claimant, challenger] = [d.signers[1], d.signers[2]];
      const { claimId, gasUsed: claim } = await claimFor(d, claimant, view);
      const { gameId, gasUsed: challenge } = await challengeClaim(d, challenger, claimId);
      const gas = await playGame(d, gameId, { signer: claimant, tree: view.tree }, { signer: challenger, tree: honest.tree, trace });
      expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
      await expectExactBalance();
      const moves = gas.filter((g) => g.move !== "prove").map((g) => g.gasUsed);
      const prove = gas.find((g) => g.move === "prove")!.gasUsed;
      expect(moves).toHaveLength(2 * DEPTH);
      for (const g of moves) expect(g).toBeLessThanOrEqual(80_000n);
      const total = claim + challenge + moves.reduce((a, b) => a + b, 0n) + prove;
      expect(total).toBeLessThanOrEqual(2_000_000n);
      rows.push({ label, claim, challenge, moves, prove, total });
    }
    const max = (xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b));
    const min = (xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b));
    const reveals = rows.flatMap((r) => r.moves.filter((_, k) => k % 2 === 0));
    const chooses = rows.flatMap((r) => r.moves.filter((_, k) => k % 2 === 1));
    for (const r of rows) {
      console.log(`dispute gas (${r.label}): claim ${r.claim}, challenge ${r.challenge}, moves ${r.moves.reduce((a, b) => a + b, 0n)} (${r.moves.length}), prove ${r.prove}, total ${r.total}`);
    }
    console.log(`gas: reveal ${min(reveals)}–${max(reveals)}, choose ${min(chooses)}–${max(chooses)}, prove ${min(rows.map((r) => r.prove))}–${max(rows.map((r) => r.prove))}, worst whole dispute ${max(rows.map((r) => r.total))}`);
  });
});

describe("withdrawals", () => {
  it("withdraw() pays out each credit (Withdrawn; balance up by the credit less the fee); NothingToWithdraw when empty", async () => {
    // First every claim still open is finalized, so that every claim is final or void and every game over.
    await advance(WINDOW + 1);
    for (const { claimId, view } of claimsOnD) {
      if ((await d.oracle.getClaim(claimId)).status === OPEN) await (await d.oracle.finalize(claimId, m, ...finalArgs(view, N))).wait();
      expect([VOID, FINAL]).toContain((await d.oracle.getClaim(claimId)).status);
    }
    // Then every credit, with what was already withdrawn, is every deposit.
    const credits = await Promise.all(d.signers.map(async (s) => (await d.oracle.credit(await addr(s))) as bigint));
    expect(credits.reduce((a, b) => a + b, 0n)).toBe(await expectedBalance(d));
    await expectExactBalance();

    let paid = 0;
    for (const signer of d.signers) {
      const account = await addr(signer);
      const credit: bigint = await d.oracle.credit(account);
      if (credit === 0n) {
        await expectRevert(as(d.oracle, signer).withdraw(), "NothingToWithdraw", d.oracle);
        continue;
      }
      const before = await provider.getBalance(account);
      const receipt = await (await as(d.oracle, signer).withdraw()).wait();
      const [withdrawn] = eventsIn(receipt, d.oracle, "Withdrawn");
      expect(withdrawn.args.account).toBe(account);
      expect(withdrawn.args.amount).toBe(credit);
      expect((await provider.getBalance(account)) - before).toBe(credit - receipt.fee);
      expect(await d.oracle.credit(account)).toBe(0n);
      await expectRevert(as(d.oracle, signer).withdraw(), "NothingToWithdraw", d.oracle);
      await expectExactBalance();
      paid++;
    }
    expect(paid).toBeGreaterThanOrEqual(3);

    // Every claim on this deployment is final or void and every game is over: every deposit has been paid out.
    const games = Number(await d.game.gameCount());
    for (let g = 0; g < games; g++) expect((await d.game.game(g)).active).toBe(false);
    expect(await provider.getBalance(d.oracle.target)).toBe(0n);
    expect(await expectedBalance(d)).toBe(0n);
  });
});
