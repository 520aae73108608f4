/**
 * Reveals are open and shared: anyone may reveal a node (the hash is the only check), each (node, levels) is
 * revealed once for good, and one reveal serves every game, of every claim, that reaches that node. Each game's
 * clocks read the reveal's time: its defender is charged only until the reveal (nothing if it came before the node
 * was disputed), its challenger from then on; a reveal after the defender's clock ran out does not save it.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { revealMove } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  CLOCK,
  OPEN,
  SPLIT_BITS,
  VOID,
  chainTime,
  challengeClaim,
  deployWithModel,
  descend,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  firstDifference,
  honestClaim,
  nextBlockAt,
  position,
  postClaim,
  proveArgs,
  provider,
  requestInference,
  revealIfNeeded,
  revealedNodes,
  treeWithLeaf,
  turnOf,
  type Deployment,
} from "./harness.js";

const model = mnist();
const modelId = model.meta.commitment;
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const honest = honestClaim(trace);

const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;
const addr = (s: ethers.Signer) => s.getAddress();

async function honestClaimOn(d: Deployment, claimant: ethers.Signer) {
  const { requestId } = await requestInference(d, modelId, input);
  return (await postClaim(d, claimant, requestId, honest, model)).claimId;
}

/** The revealed nodes of game `gameId`'s disputed node (they must be revealed). */
async function nodesOf(d: Deployment, gameId: bigint) {
  const p = await position(d, gameId);
  return (await revealedNodes(d, p.node, p.levels))!;
}

describe("who reveals", () => {
  it("a third key reveals every node for an honest claim whose claimant does nothing; the game proceeds and the claimant wins", async () => {
    const d = await deployWithModel(model);
    const [claimant, challenger, helper] = [d.signers[1], d.signers[2], d.signers[3]];
    const claimId = await honestClaimOn(d, claimant);
    const { gameId } = await challengeClaim(d, challenger, claimId);
    const nonce = await provider.getTransactionCount(await addr(claimant));
    const lie = treeWithLeaf(trace, 2222);
    const gas = await descend(d, gameId, { signer: helper, tree: honest.tree }, { signer: challenger, pick: firstDifference(lie) });
    expect(gas.filter((g) => g.move === "reveal")).toHaveLength(3);
    const revealers = await d.game.queryFilter(d.game.filters.Revealed());
    for (const e of revealers) expect((await e.getTransaction()).from).toBe(await addr(helper));
    const p = await position(d, gameId);
    expect(p.index).toBe(2222);
    const receipt = await (await as(d.game, challenger).prove(gameId, ...proveArgs(lie, trace, p))).wait();
    expect(eventsIn(receipt, d.game, "Proved")[0].args.defenderWon).toBe(true);
    // The claimant sent nothing, and is paid the challenger's bond.
    expect(await provider.getTransactionCount(await addr(claimant))).toBe(nonce);
    expect(await d.oracle.credit(await addr(claimant))).toBe(CHALLENGE_BOND);
    expect((await d.oracle.getClaim(claimId)).status).toBe(OPEN);
    await expectBondInvariant(d);
  });

  it("a reveal must open the node: wrong nodes ChildrenMismatch, malformed counts MoveMalformed, the same (node, levels) twice AlreadyRevealed", async () => {
    const d = await deployWithModel(model);
    const root = toHex(honest.tree.root);
    const r = revealMove(honest.tree, { depth: 0, index: 0, traceDepth: 12, agreedHeight: 0, levels: SPLIT_BITS });
    const nodes = r.nodes.map(toHex);
    const anyone = as(d.game, d.signers[8]);
    await expectRevert(anyone.reveal(root, SPLIT_BITS, [...nodes].reverse()), "ChildrenMismatch", d.game);
    await expectRevert(anyone.reveal(toHex(treeWithLeaf(trace, 5).root), SPLIT_BITS, nodes), "ChildrenMismatch", d.game);
    await expectRevert(anyone.reveal(root, SPLIT_BITS, nodes.map(() => ethers.ZeroHash)), "ChildrenMismatch", d.game);
    for (const [levels, count] of [
      [0, 1],
      [0, 0],
      [SPLIT_BITS, 2 ** SPLIT_BITS - 1],
      [SPLIT_BITS, 2 ** SPLIT_BITS + 1],
      [SPLIT_BITS - 1, 2 ** SPLIT_BITS],
      [SPLIT_BITS + 1, 2 ** (SPLIT_BITS + 1)],
      [255, 2],
    ]) {
      await expectRevert(anyone.reveal(root, levels, Array.from({ length: count }, (_, k) => nodes[k % nodes.length])), "MoveMalformed", d.game);
    }
    expect([...(await d.game.revealed(root, SPLIT_BITS))]).toEqual([0n, 0n]);
    const receipt = await (await anyone.reveal(root, SPLIT_BITS, nodes)).wait();
    const [revealed] = eventsIn(receipt, d.game, "Revealed");
    expect([revealed.args.node, Number(revealed.args.levels), [...revealed.args.nodes]]).toEqual([root, SPLIT_BITS, nodes]);
    const block = await provider.getBlock(receipt.blockNumber);
    expect([...(await d.game.revealed(root, SPLIT_BITS))]).toEqual([BigInt(block!.timestamp), BigInt(receipt.blockNumber)]);
    await expectRevert(as(d.game, d.signers[1]).reveal(root, SPLIT_BITS, nodes), "AlreadyRevealed", d.game);
    await expectRevert(anyone.reveal(root, SPLIT_BITS, [...nodes].reverse()), "AlreadyRevealed", d.game);
    // The same node opened by other levels is another reveal.
    const one = [toHex(honest.tree.node(1, 0)), toHex(honest.tree.node(1, 1))];
    await (await anyone.reveal(root, 1, one)).wait();
    expect((await d.game.revealed(root, 1)).time).toBeGreaterThan(0n);
    expect(await revealedNodes(d, root, 1)).toEqual(one);
    expect(await revealedNodes(d, root, SPLIT_BITS)).toEqual(nodes);
    expect(await revealedNodes(d, root, 2)).toBeUndefined();
  });
});

describe("one reveal, many games", () => {
  it("three challengers of one claim: one reveal of the root passes every game's turn; each defender clock is charged up to the reveal only; a later challenger and another claim's game find it revealed", async () => {
    const d = await deployWithModel(model);
    const [claimant, c1, c2, c3, late, other] = [d.signers[1], d.signers[2], d.signers[3], d.signers[4], d.signers[5], d.signers[6]];
    const claimId = await honestClaimOn(d, claimant);
    const t0 = (await chainTime()) + 10;
    const starts = [0, 100, 250];
    const games: bigint[] = [];
    for (const [k, c] of [c1, c2, c3].entries()) {
      await nextBlockAt(t0 + starts[k]);
      games.push((await challengeClaim(d, c, claimId)).gameId);
    }
    await nextBlockAt(t0 + 300);
    for (const g of games) expect(turnOf(await position(d, g), t0 + 300).defenderToMove).toBe(true);
    // One reveal, by the claimant, of the root.
    await nextBlockAt(t0 + 400);
    const receipt = await revealIfNeeded(d, games[0], claimant, honest.tree);
    expect(eventsIn(receipt!, d.game, "Revealed")).toHaveLength(1);
    for (const g of games) {
      const s = await d.game.status(g);
      expect(s.defenderToMove).toBe(false);
      expect(await revealIfNeeded(d, g, claimant, honest.tree)).toBeUndefined(); // nothing left to reveal
    }
    // Each challenger chooses 100 s after the previous one; all three dispute the same node (the one holding leaf 3000, where their tree lies).
    const lie = treeWithLeaf(trace, 3000);
    for (const [k, g] of games.entries()) {
      await nextBlockAt(t0 + 500 + 100 * k);
      const p = await position(d, g);
      const nodes = await nodesOf(d, g);
      await (await as(d.game, [c1, c2, c3][k]).choose(g, nodes, firstDifference(lie)(p, nodes))).wait();
      const game = await d.game.game(g);
      expect(Number(game.defenderClock), `game ${k}`).toBe(CLOCK - (400 - starts[k]));
      expect(Number(game.challengerClock), `game ${k}`).toBe(CLOCK - (500 + 100 * k - 400));
    }
    const nodes = await Promise.all(games.map(async (g) => (await position(d, g)).node));
    expect(new Set(nodes).size).toBe(1);

    // A challenger that comes after the reveal: its turn at once; the defender is charged nothing.
    await nextBlockAt(t0 + 900);
    const lateGame = (await challengeClaim(d, late, claimId)).gameId;
    expect(turnOf(await position(d, lateGame), t0 + 900).defenderToMove).toBe(false);
    await nextBlockAt(t0 + 950);
    await (await as(d.game, late).choose(lateGame, await nodesOf(d, lateGame), 11)).wait();
    expect([Number((await d.game.game(lateGame)).defenderClock), Number((await d.game.game(lateGame)).challengerClock)]).toEqual([CLOCK, CLOCK - 50]);

    // Another claim with the same trace root: its game starts on a revealed root too.
    const second = await honestClaimOn(d, d.signers[7]);
    const otherGame = (await challengeClaim(d, other, second)).gameId;
    expect((await d.game.status(otherGame)).defenderToMove).toBe(false);

    // Down one more round: the three games at the same node share its reveal as well.
    await nextBlockAt(t0 + 1000);
    await revealIfNeeded(d, games[0], d.signers[9], honest.tree);
    for (const g of games) expect((await d.game.status(g)).defenderToMove).toBe(false);
    for (const g of games) expect((await position(d, g)).revealedAt).toBe(t0 + 1000);
    expect((await d.game.queryFilter(d.game.filters.Revealed())).length).toBe(2);
    await expectBondInvariant(d);
  });

  it("a reveal after one game's defender clock ran out serves the other game but does not save the first: choose reverts ClockExpired there, timeout() makes its challenger win, and the void claim's other game ends at once", async () => {
    const d = await deployWithModel(model);
    const [claimant, c1, c2] = [d.signers[1], d.signers[2], d.signers[3]];
    const claimId = await honestClaimOn(d, claimant);
    const t0 = (await chainTime()) + 10;
    await nextBlockAt(t0);
    const g1 = (await challengeClaim(d, c1, claimId)).gameId;
    await nextBlockAt(t0 + 1000);
    const g2 = (await challengeClaim(d, c2, claimId)).gameId;
    // Revealed 1 s after game 1's defender clock ran out: 801 s into game 2's.
    await nextBlockAt(t0 + CLOCK + 1);
    await revealIfNeeded(d, g1, claimant, honest.tree);
    const s1 = await d.game.status(g1);
    expect([s1.defenderToMove, Number(s1.used), Number(s1.left)]).toEqual([true, CLOCK + 1, CLOCK]);
    expect(turnOf(await position(d, g1), await chainTime())).toEqual({ defenderToMove: true, used: CLOCK + 1, left: CLOCK });
    expect((await d.game.status(g2)).defenderToMove).toBe(false);
    const nodes = await nodesOf(d, g1);
    await expectRevert(as(d.game, c1).choose(g1, nodes, 0), "ClockExpired", d.game);
    // Game 2 goes on, its defender charged 801 s.
    await (await as(d.game, c2).choose(g2, nodes, 2)).wait();
    expect(Number((await d.game.game(g2)).defenderClock)).toBe(CLOCK - (CLOCK + 1 - 1000));
    // Game 1 is lost by the defender: the claim is void.
    const receipt = await (await as(d.game, d.signers[8]).timeout(g1)).wait();
    expect(eventsIn(receipt, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    expect((await d.oracle.getClaim(claimId)).status).toBe(VOID);
    // Game 2's clocks have time left, but its claim is void: timeout() ends it for its challenger.
    expect((await d.game.status(g2)).defenderToMove).toBe(true);
    const end = await (await d.game.timeout(g2)).wait();
    expect(eventsIn(end, d.game, "TimedOut")[0].args.defenderWon).toBe(false);
    const [settled] = eventsIn(end, d.oracle, "ClaimSettled");
    expect([settled.args.winners, settled.args.share, settled.args.burnedAmount]).toEqual([2n, CLAIM_BOND / 4n, CLAIM_BOND / 2n]);
    for (const c of [c1, c2]) await (await d.oracle.collectReward(claimId, await addr(c))).wait();
    for (const c of [c1, c2]) expect(await d.oracle.credit(await addr(c))).toBe(CHALLENGE_BOND + CLAIM_BOND / 4n);
    expect(await d.oracle.credit(await addr(claimant))).toBe(0n);
    await expectBondInvariant(d);
  });
});
