/**
 * Lying always costs the liar. A claim that loses a game is void; every other game against it is then decided
 * for its challenger at once, and when the last one ends the claim bond is settled: BURN_PERCENT (50%) burned,
 * the rest shared equally by the challengers that won. So a liar that also challenges its own claim from other
 * keys (to win its bond back as a challenger) still loses at least the burned half, however many keys it uses,
 * and an honest challenger in the same claim is paid its share. Amounts are exact, from credits and deposits
 * (gas aside).
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  CLOCK,
  OPEN,
  SPLIT_BITS,
  VOID,
  WINDOW,
  advance,
  chainTime,
  challengeClaim,
  deployWithModel,
  descend,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  finalArgs,
  firstDifference,
  honestClaim,
  intoAgreement,
  lyingClaim,
  modelStruct,
  nextBlockAt,
  playGame,
  position,
  postClaim,
  proveArgs,
  requestInference,
  revealIfNeeded,
  revealedNodes,
  type Deployment,
} from "./harness.js";

const model = mnist();
const modelId = model.meta.commitment;
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const honest = honestClaim(trace);
/** The lie: a wrong output (and so a wrong sN, and padding). */
const lie = lyingClaim(trace, trace.steps);

const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;
const addr = (s: ethers.Signer) => s.getAddress();
const BURNED = CLAIM_BOND / 2n; // BURN_PERCENT of the claim bond

/** What `keys` have been credited, less what they deposited: their net result so far, gas aside. */
async function net(d: Deployment, keys: ethers.Signer[]): Promise<bigint> {
  let total = 0n;
  for (const k of keys) {
    const a = await addr(k);
    total += (await d.oracle.credit(a)) as bigint;
    for (const e of await d.oracle.queryFilter(d.oracle.filters.Deposited(a))) total -= (e as ethers.EventLog).args.amount as bigint;
  }
  return total;
}

async function lyingClaimOn(d: Deployment, liar: ethers.Signer) {
  const { requestId } = await requestInference(d, modelId, input);
  return (await postClaim(d, liar, requestId, lie, model)).claimId;
}

describe("a liar that also challenges its own claim", () => {
  it("with a second key B that proves first: the claim is void, the honest A's game ends at once by timeout(), two winners share the unburned half (0.25 ETH each), 0.5 ETH burned", async () => {
    const d = await deployWithModel(model);
    const [liar, B, A, stranger] = [d.signers[1], d.signers[2], d.signers[3], d.signers[4]];
    const claimId = await lyingClaimOn(d, liar);
    const gA = (await challengeClaim(d, A, claimId)).gameId;
    const gB = (await challengeClaim(d, B, claimId)).gameId;
    // A makes its first choice; then B plays fast to the leaf and proves (the reveals are shared with A's game).
    await descend(d, gA, { signer: liar, tree: lie.tree }, { signer: A, pick: firstDifference(honest.tree) }, SPLIT_BITS);
    await playGame(d, gB, { signer: liar, tree: lie.tree }, { signer: B, tree: honest.tree, trace });
    expect((await d.game.game(gB)).challengerWon).toBe(true);
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    expect((await d.oracle.getClaim(claimId)).openGames).toBe(1n);
    // Not settled while A's game is open.
    await expectRevert(d.oracle.collectReward(claimId, await addr(B)), "ClaimNotSettled", d.oracle);
    expect(await d.oracle.burned()).toBe(0n);
    await expectBondInvariant(d);

    // A's game: no clock has run out, and it need not wait for one.
    expect((await position(d, gA)).active).toBe(true);
    const receipt = await (await as(d.game, stranger).timeout(gA)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    const [settled] = eventsIn(receipt, d.oracle, "ClaimSettled");
    expect([settled.args.claimId, settled.args.winners, settled.args.share, settled.args.burnedAmount]).toEqual([claimId, 2n, CLAIM_BOND / 4n, BURNED]);
    expect(await d.oracle.burned()).toBe(BURNED);
    expect(await d.oracle.rewardShare(2n)).toBe(CLAIM_BOND / 4n);
    // Each winner has its bond back already; its share waits for collectReward, which anyone may send.
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND);
    expect((await d.oracle.gameOfChallenger(claimId, await addr(A))).rewardDue).toBe(true);
    let l = await expectBondInvariant(d);
    expect(l.uncollected).toBe(CLAIM_BOND / 2n);
    const collected = await (await as(d.oracle, stranger).collectReward(claimId, await addr(A))).wait();
    expect(eventsIn(collected, d.oracle, "Credited").map((e) => [e.args.account, e.args.amount])).toEqual([[await addr(A), CLAIM_BOND / 4n]]);
    await (await as(d.oracle, B).collectReward(claimId, await addr(B))).wait();
    await expectRevert(d.oracle.collectReward(claimId, await addr(A)), "NoReward", d.oracle);
    await expectRevert(d.oracle.collectReward(claimId, await addr(B)), "NoReward", d.oracle);
    await expectRevert(d.oracle.collectReward(claimId, await addr(liar)), "NoReward", d.oracle);
    await expectRevert(d.oracle.collectReward(claimId, await addr(stranger)), "NoReward", d.oracle);

    // A: its bond back and its share. The liar's two keys: the claim bond lost but B's share.
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND + CLAIM_BOND / 4n);
    expect(await net(d, [A])).toBe(CLAIM_BOND / 4n);
    const liarNet = await net(d, [liar, B]);
    expect(liarNet).toBe(-(CLAIM_BOND - CLAIM_BOND / 4n));
    expect(-liarNet).toBeGreaterThanOrEqual(BURNED);
    l = await expectBondInvariant(d);
    expect(l.uncollected + l.claimBonds + l.challengeBonds).toBe(0n);
  });

  it("that stops revealing in B's game only (B disputed another node): the claim is voided by the defender's timeout, no proof, and settles the same way", async () => {
    const d = await deployWithModel(model);
    const [liar, B, A] = [d.signers[1], d.signers[2], d.signers[3]];
    const claimId = await lyingClaimOn(d, liar);
    const t0 = (await chainTime()) + 10;
    await nextBlockAt(t0 + 10);
    const gA = (await challengeClaim(d, A, claimId)).gameId;
    await nextBlockAt(t0 + 20);
    const gB = (await challengeClaim(d, B, claimId)).gameId;
    await nextBlockAt(t0 + 30);
    await revealIfNeeded(d, gA, liar, lie.tree); // the root, for both games
    const rootNodes = (await revealedNodes(d, (await position(d, gA)).node, SPLIT_BITS))!;
    const aPick = firstDifference(honest.tree)(await position(d, gA), rootNodes);
    expect(aPick).toBe(trace.steps >> (trace.depth - SPLIT_BITS)); // the node holding leaf N
    await nextBlockAt(t0 + 40);
    await (await as(d.game, A).choose(gA, rootNodes, aPick)).wait();
    await nextBlockAt(t0 + 50);
    await (await as(d.game, B).choose(gB, rootNodes, 0)).wait(); // another node: B's game and A's part here
    // The liar answers in A's game, and A follows it to the leaf; B's node is never revealed.
    for (const t of [60, 80]) {
      await nextBlockAt(t0 + t);
      await revealIfNeeded(d, gA, liar, lie.tree);
      const p = await position(d, gA);
      const nodes = (await revealedNodes(d, p.node, p.levels))!;
      await nextBlockAt(t0 + t + 10);
      await (await as(d.game, A).choose(gA, nodes, firstDifference(honest.tree)(p, nodes))).wait();
    }
    expect((await position(d, gA)).levels).toBe(0); // A at its leaf, its clock running (CLOCK − 30 left)
    expect((await position(d, gB)).revealedAt).toBe(0);
    // B's defender ran out 10 s ago (10 s were charged for the root); A still has 10 s.
    await nextBlockAt(t0 + 50 + CLOCK);
    await expectRevert(d.game.timeout(gA), "ClockRunning", d.game);
    const receipt = await (await d.game.timeout(gB)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect(eventsIn(receipt, d.oracle, "ClaimVoided")[0].args.winner).toBe(await addr(B));
    expect(await d.game.queryFilter(d.game.filters.Proved())).toHaveLength(0);
    // A's game, void rule: ended at once, for A (its own clock had not run out).
    const s = await d.game.status(gA);
    expect(Number(s.used)).toBeLessThan(Number(s.left));
    const end = await (await d.game.timeout(gA)).wait();
    expect(eventsIn(end, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect([...eventsIn(end, d.oracle, "ClaimSettled")[0].args].slice(1)).toEqual([2n, CLAIM_BOND / 4n, BURNED]);
    for (const c of [A, B]) await (await d.oracle.collectReward(claimId, await addr(c))).wait();
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND + CLAIM_BOND / 4n);
    expect(await net(d, [liar, B])).toBe(-(CLAIM_BOND - CLAIM_BOND / 4n));
    expect(-(await net(d, [liar, B]))).toBeGreaterThanOrEqual(BURNED);
    await expectBondInvariant(d);
  });

  it("with eight keys of its own against one honest challenger: nine winners; the liar still loses more than the burned half, and the honest one is paid its share", async () => {
    const d = await deployWithModel(model);
    const [liar, ...rest] = d.signers;
    const sybils = rest.slice(0, 8);
    const A = rest[8];
    const claimId = await lyingClaimOn(d, liar);
    const games = new Map<ethers.Signer, bigint>();
    for (const c of [A, ...sybils]) games.set(c, (await challengeClaim(d, c, claimId)).gameId);
    expect((await d.oracle.getClaim(claimId)).openGames).toBe(9n);
    // The first sybil wins by proof; every other game is then ended at once.
    await playGame(d, games.get(sybils[0])!, { signer: liar, tree: lie.tree }, { signer: sybils[0], tree: honest.tree, trace });
    for (const c of [...sybils.slice(1), A]) await (await d.game.timeout(games.get(c)!)).wait();
    const [settled] = await d.oracle.queryFilter(d.oracle.filters.ClaimSettled(claimId));
    const share = (CLAIM_BOND - BURNED) / 9n;
    expect([...(settled as ethers.EventLog).args].slice(1)).toEqual([9n, share, CLAIM_BOND - 9n * share]);
    expect(await d.oracle.burned()).toBe(CLAIM_BOND - 9n * share); // half, and the remainder of the division
    for (const c of [A, ...sybils]) await (await d.oracle.collectReward(claimId, await addr(c))).wait();
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND + share);
    const liarNet = await net(d, [liar, ...sybils]);
    expect(liarNet).toBe(-(CLAIM_BOND - 8n * share));
    expect(-liarNet).toBeGreaterThanOrEqual(BURNED);
    const l = await expectBondInvariant(d);
    expect(l.burned + l.credits).toBe(l.balance);
  });
});

describe("settlement with one winner", () => {
  it("the sole winner whose win ends the last game is paid at settlement: no collectReward needed", async () => {
    const d = await deployWithModel(model);
    const [liar, A] = [d.signers[1], d.signers[2]];
    const claimId = await lyingClaimOn(d, liar);
    const { gameId } = await challengeClaim(d, A, claimId);
    const gas = await playGame(d, gameId, { signer: liar, tree: lie.tree }, { signer: A, tree: honest.tree, trace });
    expect(gas.at(-1)!.move).toBe("prove");
    const [settled] = await d.oracle.queryFilter(d.oracle.filters.ClaimSettled(claimId));
    expect([...(settled as ethers.EventLog).args].slice(1)).toEqual([1n, CLAIM_BOND - BURNED, BURNED]);
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND + CLAIM_BOND - BURNED);
    expect((await d.oracle.gameOfChallenger(claimId, await addr(A))).rewardDue).toBe(false);
    await expectRevert(d.oracle.collectReward(claimId, await addr(A)), "NoReward", d.oracle);
    expect(await net(d, [liar])).toBe(-CLAIM_BOND);
    const l = await expectBondInvariant(d);
    expect(l.uncollected).toBe(0n);
  });

  it("the sole winner whose game was not the last to end (a misguided challenger's game, lost by proof, ended after) collects its share", async () => {
    const d = await deployWithModel(model);
    const [liar, A, misguided] = [d.signers[1], d.signers[2], d.signers[3]];
    const claimId = await lyingClaimOn(d, liar);
    const gA = (await challengeClaim(d, A, claimId)).gameId;
    const gM = (await challengeClaim(d, misguided, claimId)).gameId;
    // The misguided challenger disputes nodes it agrees with, down to s0.
    await descend(d, gM, { signer: liar, tree: lie.tree }, { signer: misguided, pick: intoAgreement(honest.tree) });
    await playGame(d, gA, { signer: liar, tree: lie.tree }, { signer: A, tree: honest.tree, trace });
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    await expectRevert(d.oracle.collectReward(claimId, await addr(A)), "ClaimNotSettled", d.oracle);
    // Its own proof at s0 says the defender won: it loses its bond to the claimant, and the claim is settled.
    const p = await position(d, gM);
    expect(p.index).toBe(0);
    const receipt = await (await as(d.game, misguided).prove(gM, ...proveArgs(honest.tree, trace, p))).wait();
    expect(eventsIn(receipt, d.game, "Proved")[0].args.defenderWon).toBe(true);
    expect([...eventsIn(receipt, d.oracle, "ClaimSettled")[0].args].slice(1)).toEqual([1n, CLAIM_BOND - BURNED, BURNED]);
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND);
    await expectRevert(d.oracle.collectReward(claimId, await addr(misguided)), "NoReward", d.oracle);
    await (await d.oracle.collectReward(claimId, await addr(A))).wait();
    expect(await d.oracle.credit(await addr(A))).toBe(CHALLENGE_BOND + CLAIM_BOND - BURNED);
    expect(await d.oracle.credit(await addr(liar))).toBe(CHALLENGE_BOND);
    expect(await net(d, [misguided])).toBe(-CHALLENGE_BOND);
    await expectBondInvariant(d);
  });

  it("an honest claim is never settled: collectReward reverts ClaimNotSettled while it is open and after it is final", async () => {
    const d = await deployWithModel(model);
    const { requestId } = await requestInference(d, modelId, input);
    const { claimId } = await postClaim(d, d.signers[1], requestId, honest, model);
    await expectRevert(d.oracle.collectReward(claimId, await addr(d.signers[2])), "ClaimNotSettled", d.oracle);
    expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
    await advance(WINDOW + 1);
    await (await d.oracle.finalize(claimId, modelStruct(model), ...finalArgs(honest, trace.steps))).wait();
    await expectRevert(d.oracle.collectReward(claimId, await addr(d.signers[2])), "ClaimNotSettled", d.oracle);
    await expectRevert(d.oracle.collectReward(claimId + 1n, await addr(d.signers[2])), "ClaimNotSettled", d.oracle);
  });
});
