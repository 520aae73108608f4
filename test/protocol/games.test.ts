/**
 * The challenger lies and loses, every time: it plays a lying tree, descends into a node it agrees with (any of
 * the revealed ones, not only the first or the last), proves with a bogus witness, or stalls; the defender wins
 * and the claim stays open and finalizes. Also: both sides' clocks, several games on one claim, the window, whose
 * turn it is, the gas of a whole MNIST dispute, and withdrawals — with the bond invariant checked after every game.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { TraceTree } from "../../challenger/trace-tree.js";
import { revealMove, roundsOf } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
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
  clockLeft,
  deployWithModel,
  descend,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  finalArgs,
  firstDifference,
  garbageLeaf,
  honestClaim,
  intoAgreement,
  lyingClaim,
  modelStruct,
  nextBlockAt,
  playGame,
  position,
  postClaim,
  proveArgs,
  provider,
  requestInference,
  revealIfNeeded,
  revealedNodes,
  treeWithLeaf,
  turnOf,
  type ClaimView,
  type Deployment,
  type Picker,
} from "./harness.js";

const model = mnist();
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const N = trace.steps;
const DEPTH = trace.depth;
const ROUNDS = roundsOf(DEPTH, SPLIT_BITS);
const honest = honestClaim(trace);
const modelId = model.meta.commitment;
const m = modelStruct(model);

/**
 * The deployment most tests share. Reveals are shared by every game on it, so a test that needs a node nobody
 * revealed yet (to watch the defender's clock, or a challenger waiting for a reveal) takes a fresh deployment.
 */
let d: Deployment;
/** Every claim made on `d`, to finalize the open ones before the withdrawals. */
const claimsOnD: { claimId: bigint; view: ClaimView }[] = [];

beforeAll(async () => {
  d = await deployWithModel(model);
});

type Signer = ethers.Signer;
const addr = (s: Signer) => s.getAddress();
const as = (c: ethers.Contract, s: Signer) => c.connect(s) as ethers.Contract;

/**
 * Ends a game by timeout() against a stalled challenger (sent by `caller`) and checks the outcome every such
 * game must have: the defender wins and is credited the challenge bond, the claim stays open, the bonds balance.
 */
async function expectDefenderWinsByTimeout(dep: Deployment, claimId: bigint, gameId: bigint, claimant: Signer, caller: Signer = dep.signers[0]) {
  const before = await dep.oracle.credit(await addr(claimant));
  const receipt = await (await as(dep.game, caller).timeout(gameId)).wait();
  expect(eventsIn(receipt, dep.game, "TimedOut")[0].args.defenderWon).toBe(true);
  expect((await dep.oracle.credit(await addr(claimant))) - before).toBe(CHALLENGE_BOND);
  expect((await dep.oracle.getClaim(claimId)).status).toBe(OPEN);
  await expectBondInvariant(dep);
  return receipt;
}

async function claimFor(dep: Deployment, claimant: Signer, view: ClaimView = honest) {
  const { requestId } = await requestInference(dep, modelId, input);
  const { claimId, gasUsed } = await postClaim(dep, claimant, requestId, view, model);
  if (dep === d) claimsOnD.push({ claimId, view });
  return { requestId, claimId, gasUsed };
}

/** A seeded choice among `n` (a linear congruential generator: the test's picks replay exactly). */
function seeded(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return (s >> 8) % n;
  };
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
      // One choice a round; the honest tree's reveals are shared with the earlier games on d, so some are skipped.
      expect(gas.filter((g) => g.move === "choose")).toHaveLength(ROUNDS);
      expect(gas.filter((g) => g.move === "reveal").length).toBeLessThanOrEqual(ROUNDS);
      const [proved] = await d.game.queryFilter(d.game.filters.Proved(gameId));
      expect((proved as ethers.EventLog).args.step).toBe(BigInt(L)); // it went where its lie is
      expect((proved as ethers.EventLog).args.defenderWon).toBe(true);
      const claim = await d.oracle.getClaim(claimId);
      expect(claim.status).toBe(OPEN);
      expect(claim.openGames).toBe(0n);
      expect((await d.oracle.credit(await addr(claimant))) - before).toBe(CHALLENGE_BOND);
      await expectBondInvariant(d);

      await advance(WINDOW + 1);
      await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
      expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);
      expect((await d.oracle.credit(await addr(claimant))) - before).toBe(CHALLENGE_BOND + CLAIM_BOND);
      await expectBondInvariant(d);
    });
  }
});

describe("a challenger descending into a node it agrees with", () => {
  it("always agreeing with the first revealed node (an honest tree): ends at s0, and its own proof says the defender won", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[3]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: intoAgreement(honest.tree) });
    expect((await position(d, gameId)).index).toBe(0);
    const { proved, resolved } = await prove(d, gameId, challenger);
    expect(proved.step).toBe(0n);
    expect(proved.defenderWon).toBe(true);
    expect(resolved.defenderWon).toBe(true);
    expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
    await expectBondInvariant(d);
  });

  for (const [L, which] of [
    [5, "last"],
    [2000, "last"],
    [3210, "random"],
    [3490, "random"],
    [3501, "random"],
  ] as const) {
    it(`disagreeing only at leaf ${L} but always disputing the ${which} node it agrees with: ends at an honest step, loses`, async () => {
      const [claimant, challenger] = [d.signers[1], d.signers[3]];
      const { claimId } = await claimFor(d, claimant);
      const { gameId } = await challengeClaim(d, challenger, claimId);
      const lying = treeWithLeaf(trace, L);
      const random = seeded(L);
      const pick = intoAgreement(lying, which === "last" ? (a) => a[a.length - 1] : (a) => a[random(a.length)]);
      await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick });
      const p = await position(d, gameId);
      expect(p.index).not.toBe(L);
      // Anyone may prove; the honest witness shows the step is right.
      const { proved } = await prove(d, gameId, d.signers[8]);
      expect(proved.step).toBe(BigInt(p.index));
      expect(proved.postState).toBe(toHex(trace.stateHash(p.index)));
      expect(proved.defenderWon).toBe(true);
      expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
      await expectBondInvariant(d);
    });
  }

  it("picking any revealed index at random, in several games: always ends at an honest leaf and loses", async () => {
    const random = seeded(0x5eed);
    const claimant = d.signers[1];
    const { claimId } = await claimFor(d, claimant);
    const before = await d.oracle.credit(await addr(claimant));
    const leaves = new Set<number>();
    const picks = new Set<number>();
    // One game per (claim, challenger): four challengers.
    const challengers = [d.signers[4], d.signers[5], d.signers[6], d.signers[7]];
    for (const challenger of challengers) {
      const { gameId } = await challengeClaim(d, challenger, claimId);
      const pick: Picker = (_, nodes) => {
        const k = random(nodes.length);
        picks.add(k);
        return k;
      };
      await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick });
      const { proved } = await prove(d, gameId, challenger);
      leaves.add(Number(proved.step));
      expect(proved.defenderWon).toBe(true);
      await expectBondInvariant(d);
    }
    expect(leaves.size).toBeGreaterThan(1);
    expect(picks.size).toBeGreaterThan(4); // not only the first and last
    expect((await d.oracle.credit(await addr(claimant))) - before).toBe(4n * CHALLENGE_BOND);
  });

  it("refusing to prove at the leaf: ClockRunning, then ClockExpired for a late proof, then timeout — the defender wins", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[3]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: intoAgreement(treeWithLeaf(trace, 1234)) });
    const p = await position(d, gameId);
    expect(turnOf(p, await chainTime()).defenderToMove).toBe(false); // at a leaf it stays the challenger's move
    expect((await d.game.status(gameId)).defenderToMove).toBe(false);
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK + 1);
    await expectRevert(as(d.game, challenger).prove(gameId, ...proveArgs(honest.tree, trace, p)), "ClockExpired", d.game);
    const receipt = await expectDefenderWinsByTimeout(d, claimId, gameId, claimant, d.signers[9]);
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
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: firstDifference(lying) });
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
    // 1600 = 0x640: the picks were 6, 4, 0 (m = 4), so the agreed-left node is node 3 of the second round, height 4.
    expect(p.agreedHeight).toBe(4);
    await expectRevert(as(d.game, challenger).prove(gameId, preHash, preProof.slice(1), witness), "PreStateNotProven", d.game);
    await expectRevert(as(d.game, challenger).prove(gameId, preHash, [...preProof, ethers.ZeroHash], witness), "PreStateNotProven", d.game);
    expect((await position(d, gameId)).active).toBe(true);

    // Out of moves that could win, it stalls: its clock runs out and the defender wins.
    await advance(CLOCK + 1);
    await expectRevert(as(d.game, challenger).prove(gameId, preHash, preProof, witness), "ClockExpired", d.game);
    await expectDefenderWinsByTimeout(d, claimId, gameId, claimant);
  });
});

describe("clocks", () => {
  it("a challenger stalling mid-game: ClockRunning too early, ClockExpired for a late move, timeout — the defender wins", async () => {
    const [claimant, challenger] = [d.signers[1], d.signers[6]];
    const { claimId } = await claimFor(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    const pick: Picker = (_, nodes) => nodes.length - 1;
    await descend(d, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick }, SPLIT_BITS);
    const p = await position(d, gameId);
    await revealIfNeeded(d, gameId, claimant, honest.tree);
    const nodes = (await revealedNodes(d, p.node, p.levels))!;
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK - 60);
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(61);
    await expectRevert(as(d.game, challenger).choose(gameId, nodes, 3), "ClockExpired", d.game);
    await expectDefenderWinsByTimeout(d, claimId, gameId, claimant);
  });

  it("a chess clock: each party's time is the sum over its own moves, only the mover's clock runs, and status() agrees with turnOf()", async () => {
    const dep = await deployWithModel(model);
    const [claimant, challenger] = [dep.signers[1], dep.signers[6]];
    const { claimId } = await claimFor(dep, claimant);
    const { gameId } = await challengeClaim(dep, challenger, claimId);
    const t0 = (await position(dep, gameId)).lastMove;
    const reveal = async (at: number) => {
      await nextBlockAt(at);
      await revealIfNeeded(dep, gameId, claimant, honest.tree);
      const p = await position(dep, gameId);
      return (await revealedNodes(dep, p.node, p.levels))!;
    };
    /** The contract's status() and its TS twin at the latest block, and both clocks as clockLeft() reads them. */
    const statusBoth = async () => {
      const [s, p, now] = await Promise.all([dep.game.status(gameId), position(dep, gameId), chainTime()]);
      const t = turnOf(p, now);
      expect({ defenderToMove: s.defenderToMove, used: Number(s.used), left: Number(s.left) }).toEqual(t);
      expect(Number(s.levels)).toBe(p.levels);
      return { ...t, now, defenderLeft: clockLeft(p, "defender", now), challengerLeft: clockLeft(p, "challenger", now) };
    };

    await advance(500);
    let s = await statusBoth();
    expect(s).toMatchObject({ defenderToMove: true, left: CLOCK, defenderLeft: CLOCK - (s.now - t0), challengerLeft: CLOCK });
    let nodes = await reveal(t0 + 1000); // the defender thinks for 1000 s
    expect(await statusBoth()).toMatchObject({ defenderToMove: false, used: 0, left: CLOCK, defenderLeft: CLOCK - 1000, challengerLeft: CLOCK });
    await nextBlockAt(t0 + 2000); // the challenger thinks for 1000 s
    await (await as(dep.game, challenger).choose(gameId, nodes, 5)).wait();
    let g = await dep.game.game(gameId);
    expect(Number(g.defenderClock)).toBe(CLOCK - 1000);
    expect(Number(g.challengerClock)).toBe(CLOCK - 1000);
    nodes = await reveal(t0 + 2700); // the defender has 800 s left: on time
    await advance(100);
    s = await statusBoth();
    expect(s).toMatchObject({ defenderToMove: false, left: CLOCK - 1000, defenderLeft: CLOCK - 1700, challengerLeft: CLOCK - 1000 - (s.now - (t0 + 2700)) });
    await nextBlockAt(t0 + 2700 + 801); // the challenger has 800 s left: late
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes, 0), "ClockExpired", dep.game);
    g = await dep.game.game(gameId);
    expect(Number(g.defenderClock)).toBe(CLOCK - 1000); // charged only at a choice
    const receipt = await (await dep.game.timeout(gameId)).wait();
    expect(eventsIn(receipt, dep.game, "TimedOut")[0].args.defenderWon).toBe(true);
    await expectBondInvariant(dep);
  });

  it("a defender that never reveals loses, even with an honest claim: a late reveal does not save it; the claim is void and its request reopens", async () => {
    const dep = await deployWithModel(model);
    const [claimant, challenger] = [dep.signers[1], dep.signers[7]];
    const { requestId, claimId } = await claimFor(dep, claimant);
    const { gameId } = await challengeClaim(dep, challenger, claimId);
    await expectRevert(dep.game.timeout(gameId), "ClockRunning", dep.game);
    await advance(CLOCK + 1);
    // The reveal goes through (anyone may reveal, at any time) but comes after the defender's clock ran out.
    await revealIfNeeded(dep, gameId, claimant, honest.tree);
    const p = await position(dep, gameId);
    expect(p.revealedAt).toBeGreaterThan(p.lastMove + CLOCK);
    expect(turnOf(p, await chainTime()).defenderToMove).toBe(true);
    const nodes = (await revealedNodes(dep, p.node, p.levels))!;
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes, 0), "ClockExpired", dep.game);
    const before = await dep.oracle.credit(await addr(challenger));
    const receipt = await (await dep.game.timeout(gameId)).wait();
    expect(eventsIn(receipt, dep.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect(eventsIn(receipt, dep.oracle, "ClaimVoided")).toHaveLength(1);
    // The sole winner, whose win ended the last game: paid its bond and the unburned half of the claim bond at once.
    expect((await dep.oracle.credit(await addr(challenger))) - before).toBe(CLAIM_BOND / 2n + CHALLENGE_BOND);
    expect(await dep.oracle.burned()).toBe(CLAIM_BOND / 2n);
    expect((await dep.oracle.getClaim(claimId)).status).toBe(VOID);
    expect((await dep.oracle.getRequest(requestId)).liveAttempt).toBe(0n);
    await expectBondInvariant(dep);
  });

  it("a lying defender that stops revealing mid-game loses by timeout", async () => {
    const [claimant, challenger] = [d.signers[2], d.signers[7]];
    const liar = lyingClaim(trace, 2500);
    const { claimId } = await claimFor(d, claimant, liar);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    await descend(d, gameId, { signer: claimant, tree: liar.tree }, { signer: challenger, pick: firstDifference(honest.tree) }, 2 * SPLIT_BITS);
    expect((await position(d, gameId)).revealedAt).toBe(0); // the liar's node: nobody else has it to reveal
    await expectRevert(d.game.timeout(gameId), "ClockRunning", d.game);
    await advance(CLOCK + 1);
    const receipt = await (await d.game.timeout(gameId)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    await expectBondInvariant(d);
  });
});

describe("several games on one claim, the window, and whose turn it is", () => {
  it("two lying challengers contest one honest claim; it cannot finalize while a game is open, even after the window", async () => {
    const dep = await deployWithModel(model, { window: 300 });
    const [claimant, c1, c2, late] = [dep.signers[1], dep.signers[2], dep.signers[3], dep.signers[4]];
    const { claimId } = await claimFor(dep, claimant);
    await expectRevert(as(dep.oracle, claimant).challenge(claimId, { value: CHALLENGE_BOND }), "ChallengerIsClaimant", dep.oracle);
    const g1 = (await challengeClaim(dep, c1, claimId)).gameId;
    await expectRevert(as(dep.oracle, c1).challenge(claimId, { value: CHALLENGE_BOND }), "AlreadyChallenged", dep.oracle);
    const g2 = (await challengeClaim(dep, c2, claimId)).gameId;
    expect(g2).toBe(g1 + 1n);
    expect((await dep.game.game(g2)).challenger).toBe(await addr(c2));
    expect((await dep.game.game(g2)).claimId).toBe(claimId);
    expect([...(await dep.oracle.gameOfChallenger(claimId, await addr(c2)))]).toEqual([true, g2, false]);
    expect([...(await dep.oracle.gameOfChallenger(claimId, await addr(late)))]).toEqual([false, 0n, false]);
    expect((await dep.oracle.getClaim(claimId)).openGames).toBe(2n);

    await playGame(dep, g1, { signer: claimant, tree: honest.tree }, { signer: c1, tree: treeWithLeaf(trace, 777), trace });
    await expectBondInvariant(dep);
    await expectRevert(dep.oracle.finalize(claimId, m, ...finalArgs(honest, N)), "ChallengeWindowOpen", dep.oracle);
    // Game 2 to its leaf, then past the window (the challenger's clock is the one running, with time to spare).
    await descend(dep, g2, { signer: claimant, tree: honest.tree }, { signer: c2, pick: firstDifference(treeWithLeaf(trace, 3333)) });
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
    expect(await dep.oracle.burned()).toBe(0n);
    await expectBondInvariant(dep);
  });

  it("the window's edges: a challenge at the deadline is in time, one a second later is not; finalize needs the deadline passed", async () => {
    const [claimant, c1, c2] = [d.signers[1], d.signers[2], d.signers[3]];
    const { claimId } = await claimFor(d, claimant);
    const deadline = Number((await d.oracle.getClaim(claimId)).deadline);
    await nextBlockAt(deadline);
    const { gameId } = await challengeClaim(d, c1, claimId);
    expect(await chainTime()).toBe(deadline);
    await nextBlockAt(deadline + 1);
    await expectRevert(as(d.oracle, c2).challenge(claimId, { value: CHALLENGE_BOND }), "ChallengeWindowClosed", d.oracle);
    await playGame(d, gameId, { signer: claimant, tree: honest.tree }, { signer: c1, tree: treeWithLeaf(trace, 42), trace });
    await (await d.oracle.finalize(claimId, m, ...finalArgs(honest, N))).wait();
    expect((await d.oracle.getClaim(claimId)).status).toBe(FINAL);

    const second = await claimFor(d, claimant);
    const deadline2 = Number((await d.oracle.getClaim(second.claimId)).deadline);
    await nextBlockAt(deadline2);
    await expectRevert(d.oracle.finalize(second.claimId, m, ...finalArgs(honest, N)), "ChallengeWindowOpen", d.oracle);
    await advance(1);
    await (await d.oracle.finalize(second.claimId, m, ...finalArgs(honest, N))).wait();
    await expectBondInvariant(d);
  });

  it("against a lying claim: every challenger that wins shares the unburned half (the first to win, one that plays on, one whose game is ended by the void rule); one that disputed what it agreed with lost its bond before", async () => {
    const dep = await deployWithModel(model);
    const [claimant, first, second, lazy, misguided] = [dep.signers[1], dep.signers[2], dep.signers[3], dep.signers[4], dep.signers[5]];
    const liar = lyingClaim(trace, N);
    const { claimId } = await claimFor(dep, claimant, liar);
    const gFirst = (await challengeClaim(dep, first, claimId)).gameId;
    const gSecond = (await challengeClaim(dep, second, claimId)).gameId;
    const gLazy = (await challengeClaim(dep, lazy, claimId)).gameId;
    const gMisguided = (await challengeClaim(dep, misguided, claimId)).gameId;
    // The misguided one disputes nodes it agrees with, down to s0, and proves itself wrong while the claim is open.
    await descend(dep, gMisguided, { signer: claimant, tree: liar.tree }, { signer: misguided, pick: intoAgreement(honest.tree) });
    expect((await prove(dep, gMisguided, misguided)).proved.defenderWon).toBe(true);
    expect(await dep.oracle.credit(await addr(claimant))).toBe(CHALLENGE_BOND);

    await playGame(dep, gFirst, { signer: claimant, tree: liar.tree }, { signer: first, tree: honest.tree, trace });
    expect((await dep.oracle.getClaim(claimId)).status).toBe(VOID);
    await expectRevert(as(dep.oracle, dep.signers[6]).challenge(claimId, { value: CHALLENGE_BOND }), "ClaimNotOpen", dep.oracle);
    // Not settled while games are open: the winner's share is not known yet.
    await expectRevert(dep.oracle.collectReward(claimId, await addr(first)), "ClaimNotSettled", dep.oracle);
    expect(await dep.oracle.credit(await addr(first))).toBe(CHALLENGE_BOND);
    await expectBondInvariant(dep);
    // The games against a void claim go on, or end at once.
    await playGame(dep, gSecond, { signer: claimant, tree: liar.tree }, { signer: second, tree: honest.tree, trace });
    await descend(dep, gLazy, { signer: claimant, tree: liar.tree }, { signer: lazy, pick: firstDifference(honest.tree) }, SPLIT_BITS);
    const receipt = await (await dep.game.timeout(gLazy)).wait(); // no clock has run out: the claim is void
    expect(eventsIn(receipt, dep.game, "TimedOut")[0].args.defenderWon).toBe(false);
    const [settled] = eventsIn(receipt, dep.oracle, "ClaimSettled");
    const share = (CLAIM_BOND - CLAIM_BOND / 2n) / 3n;
    expect(settled.args.winners).toBe(3n);
    expect(settled.args.share).toBe(share);
    expect(settled.args.burnedAmount).toBe(CLAIM_BOND - 3n * share); // half, and the division's remainder
    await expectBondInvariant(dep);
    for (const winner of [first, second, lazy]) await (await dep.oracle.collectReward(claimId, await addr(winner))).wait();
    await expectRevert(dep.oracle.collectReward(claimId, await addr(misguided)), "NoReward", dep.oracle);
    expect(await dep.oracle.credit(await addr(first))).toBe(CHALLENGE_BOND + share);
    expect(await dep.oracle.credit(await addr(second))).toBe(CHALLENGE_BOND + share);
    expect(await dep.oracle.credit(await addr(lazy))).toBe(CHALLENGE_BOND + share);
    expect(await dep.oracle.credit(await addr(misguided))).toBe(0n);
    expect(await dep.oracle.credit(await addr(claimant))).toBe(CHALLENGE_BOND);
    expect(await dep.oracle.burned()).toBe(CLAIM_BOND - 3n * share);
    expect((await dep.oracle.getClaim(claimId)).openGames).toBe(0n);
    expect((await dep.oracle.queryFilter(dep.oracle.filters.ClaimVoided(claimId))).length).toBe(1);
    const l = await expectBondInvariant(dep);
    expect(l.uncollected).toBe(0n);
  });

  it("moves out of turn, out of phase, malformed, by strangers, or after the end are refused; anyone may reveal", async () => {
    const dep = await deployWithModel(model);
    const [claimant, challenger, stranger] = [dep.signers[1], dep.signers[2], dep.signers[9]];
    const { claimId } = await claimFor(dep, claimant);
    const { gameId } = await challengeClaim(dep, challenger, claimId);
    let p = await position(dep, gameId);
    const r = revealMove(honest.tree, p);
    const nodes = r.nodes.map(toHex);
    // Nothing revealed: no one may choose.
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes, 3), "NotYourTurn", dep.game);
    await expectRevert(as(dep.game, claimant).prove(gameId, ...proveArgs(honest.tree, trace, { ...p, depth: DEPTH, index: 1 })), "WrongPhase", dep.game);
    // A stranger reveals for the claimant: the hash is the only check.
    await (await as(dep.game, stranger).reveal(toHex(r.node), r.levels, nodes)).wait();
    await expectRevert(as(dep.game, claimant).reveal(toHex(r.node), r.levels, nodes), "AlreadyRevealed", dep.game);
    expect(turnOf(await position(dep, gameId), await chainTime()).defenderToMove).toBe(false);
    // Only the game's challenger chooses, with the revealed nodes and an index among them.
    await expectRevert(as(dep.game, stranger).choose(gameId, nodes, 3), "NotYourTurn", dep.game);
    await expectRevert(as(dep.game, claimant).choose(gameId, nodes, 3), "NotYourTurn", dep.game);
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes, nodes.length), "MoveMalformed", dep.game);
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes.slice(0, 8), 3), "MoveMalformed", dep.game);
    await expectRevert(as(dep.game, challenger).choose(gameId, [nodes[1], nodes[0], ...nodes.slice(2)], 3), "ChildrenMismatch", dep.game);
    await (await as(dep.game, challenger).choose(gameId, nodes, 15)).wait();
    // The next node is not revealed yet: its choice must wait.
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes, 15), "NotYourTurn", dep.game);

    await descend(dep, gameId, { signer: claimant, tree: honest.tree }, { signer: challenger, pick: (_, ns) => ns.length - 1 });
    p = await position(dep, gameId);
    expect(p.index).toBe(2 ** DEPTH - 1);
    expect(p.levels).toBe(0);
    const leaf = toHex(honest.tree.leaf(p.index));
    await expectRevert(as(dep.game, claimant).reveal(leaf, 0, [leaf]), "MoveMalformed", dep.game);
    await expectRevert(as(dep.game, challenger).choose(gameId, [leaf], 0), "WrongPhase", dep.game);
    // Anyone may prove at the leaf.
    const { proved } = await prove(dep, gameId, stranger);
    expect(proved.defenderWon).toBe(true);
    await expectRevert(as(dep.game, challenger).prove(gameId, ...proveArgs(honest.tree, trace, p)), "GameNotActive", dep.game);
    await expectRevert(dep.game.timeout(gameId), "GameNotActive", dep.game);
    await expectRevert(as(dep.game, challenger).choose(gameId, nodes, 0), "GameNotActive", dep.game);
    await expectRevert(dep.game.status(gameId), "GameNotActive", dep.game);
    await expectRevert(dep.game.timeout(gameId + 1n), "GameNotActive", dep.game);
    await expectBondInvariant(dep);
  });

  it("only the oracle starts games, only the game reports results, only the oracle runs challengeFor", async () => {
    const a = await addr(d.signers[1]);
    await expectRevert(d.game.start(1n << 32n, a, toHex(honest.tree.root), DEPTH), "NotOracle", d.game);
    await expectRevert(d.oracle.onGameResolved(0n, 1n << 32n, a, false), "NotGame", d.oracle);
    await expectRevert(d.oracle.challengeFor(1n << 32n, a), "NotSelf", d.oracle);
  });
});

describe("gas (in-process, MNIST, m = 4)", () => {
  it("every reveal and choose ≤ 120,000; a whole dispute (claim, challenge, every move, the proof) ≤ 1,000,000; ≤ 4 rounds", async () => {
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
    expect(ROUNDS).toBeLessThanOrEqual(4);
    for (const [label, view] of cases) {
      const [claimant, challenger] = [d.signers[1], d.signers[2]];
      const { claimId, gasUsed: claim } = await claimFor(d, claimant, view);
      const { gameId, gasUsed: challenge } = await challengeClaim(d, challenger, claimId);
      const gas = await playGame(d, gameId, { signer: claimant, tree: view.tree }, { signer: challenger, tree: honest.tree, trace });
      expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
      await expectBondInvariant(d);
      const moves = gas.filter((g) => g.move !== "prove");
      const prove = gas.find((g) => g.move === "prove")!.gasUsed;
      // The disputed path holds the lie, so every node on it is this tree's own: every reveal was made and paid here.
      expect(moves.map((g) => g.move)).toEqual(Array.from({ length: ROUNDS }, () => ["reveal", "choose"]).flat());
      for (const g of moves) expect(g.gasUsed, `${label} ${g.move}`).toBeLessThanOrEqual(120_000n);
      const total = claim + challenge + moves.reduce((a, g) => a + g.gasUsed, 0n) + prove;
      expect(total, label).toBeLessThanOrEqual(1_000_000n);
      rows.push({ label, claim, challenge, moves: moves.map((g) => g.gasUsed), prove, total });
    }
    // The worst case again on a fresh deployment, where the first settlement writes burned() from zero.
    const fresh = await deployWithModel(model);
    const [label, view] = cases[4];
    const { claimId, gasUsed: claim } = await claimFor(fresh, fresh.signers[1], view);
    const { gameId, gasUsed: challenge } = await challengeClaim(fresh, fresh.signers[2], claimId);
    const gas = await playGame(fresh, gameId, { signer: fresh.signers[1], tree: view.tree }, { signer: fresh.signers[2], tree: honest.tree, trace });
    const moves = gas.filter((g) => g.move !== "prove").map((g) => g.gasUsed);
    const prove = gas.find((g) => g.move === "prove")!.gasUsed;
    const total = claim + challenge + moves.reduce((a, b) => a + b, 0n) + prove;
    expect(moves).toHaveLength(2 * ROUNDS);
    for (const g of moves) expect(g).toBeLessThanOrEqual(120_000n);
    expect(total).toBeLessThanOrEqual(1_000_000n);
    rows.push({ label: `${label}, fresh deployment`, claim, challenge, moves, prove, total });
    await expectBondInvariant(fresh);

    const max = (xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b));
    const min = (xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b));
    const reveals = rows.flatMap((r) => r.moves.filter((_, k) => k % 2 === 0));
    const chooses = rows.flatMap((r) => r.moves.filter((_, k) => k % 2 === 1));
    for (const r of rows) {
      console.log(`dispute gas (${r.label}): claim ${r.claim}, challenge ${r.challenge}, moves ${r.moves.reduce((a, b) => a + b, 0n)} (${r.moves.length}), prove ${r.prove}, total ${r.total}`);
    }
    console.log(`gas: ${ROUNDS} rounds; reveal ${min(reveals)}–${max(reveals)}, choose ${min(chooses)}–${max(chooses)}, prove ${min(rows.map((r) => r.prove))}–${max(rows.map((r) => r.prove))}, whole dispute ${min(rows.map((r) => r.total))}–${max(rows.map((r) => r.total))}`);
  });
});

describe("withdrawals", () => {
  it("withdraw() pays out each credit (Withdrawn; balance up by the credit less the fee); NothingToWithdraw when empty; the oracle keeps only what was burned", async () => {
    // First every claim still open is finalized, so that every claim is final or void and every game over.
    await advance(WINDOW + 1);
    for (const { claimId, view } of claimsOnD) {
      if ((await d.oracle.getClaim(claimId)).status === OPEN) await (await d.oracle.finalize(claimId, m, ...finalArgs(view, N))).wait();
      expect([VOID, FINAL]).toContain((await d.oracle.getClaim(claimId)).status);
    }
    // Every void claim here had one winner, paid at settlement: nothing is left to collect or at stake.
    let l = await expectBondInvariant(d);
    expect(l.claimBonds + l.challengeBonds + l.uncollected).toBe(0n);
    expect(l.burned).toBeGreaterThan(0n);
    const credits = await Promise.all(d.signers.map(async (s) => (await d.oracle.credit(await addr(s))) as bigint));
    expect(credits.reduce((a, b) => a + b, 0n) + l.burned).toBe(l.deposited - l.withdrawn);

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
      await expectBondInvariant(d);
      paid++;
    }
    expect(paid).toBeGreaterThanOrEqual(3);

    // Every claim on this deployment is final or void and every game is over: every deposit has been paid out
    // but the burned halves of the void claims' bonds.
    const games = Number(await d.game.gameCount());
    for (let g = 0; g < games; g++) expect((await d.game.game(g)).active).toBe(false);
    l = await expectBondInvariant(d);
    expect(l.credits).toBe(0n);
    expect(l.balance).toBe(l.burned);
    expect(l.burned).toBe(BigInt(claimsOnD.filter((c) => c.view !== honest).length) * (CLAIM_BOND / 2n));
  });
});
