/**
 * multicall(): one transaction carries a move in every game its sender plays. Each inner call runs as if sent
 * alone by the sender (a delegatecall), so it can move only where the sender may; one that reverts is reported by
 * CallFailed and skipped, and the others apply.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { chooseMove, revealMove } from "../../challenger/moves.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  SPLIT_BITS,
  VOID,
  challengeClaim,
  deployWithModel,
  eventsIn,
  expectBondInvariant,
  honestClaim,
  position,
  postClaim,
  proveArgs,
  requestInference,
  revealedNodes,
  treeWithLeaf,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const model = mnist();
const modelId = model.meta.commitment;
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const honest = honestClaim(trace);
/** Three lies, at leaves under three different nodes of the first round, so the games part after it. */
const LIES = [100, 1700, 3400];
const liars: ClaimView[] = LIES.map((L) => ({ ...honest, tree: treeWithLeaf(trace, L) }));

let d: Deployment;
const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;
const encode = (name: string, args: unknown[]) => d.game.interface.encodeFunctionData(name, args);

beforeAll(async () => {
  d = await deployWithModel(model);
});

/** The reveal of game `gameId`'s disputed node from `view`'s tree, encoded for a multicall. */
async function revealCall(gameId: bigint, view: ClaimView) {
  const r = revealMove(view.tree, await position(d, gameId));
  return encode("reveal", [toHex(r.node), r.levels, r.nodes.map(toHex)]);
}

/** The honest challenger's choice in game `gameId`, encoded for a multicall. */
async function chooseCall(gameId: bigint, pick?: number) {
  const p = await position(d, gameId);
  const nodes = (await revealedNodes(d, p.node, p.levels))!;
  return encode("choose", [gameId, nodes, pick ?? chooseMove(honest.tree, p, nodes)]);
}

describe("multicall", () => {
  it("one liar reveals in three games and one challenger chooses in all three, a transaction each; a failing call is reported and skipped; a game of another challenger cannot be moved", async () => {
    const [liar, challenger, other] = [d.signers[1], d.signers[2], d.signers[3]];
    const games: bigint[] = [];
    for (const view of liars) {
      const { requestId } = await requestInference(d, modelId, input);
      const { claimId } = await postClaim(d, liar, requestId, view, model);
      games.push((await challengeClaim(d, challenger, claimId)).gameId);
    }
    // Someone else's game against an honest claim.
    const { requestId } = await requestInference(d, modelId, input);
    const { claimId: honestClaimId } = await postClaim(d, d.signers[4], requestId, honest, model);
    const othersGame = (await challengeClaim(d, other, honestClaimId)).gameId;

    // Round 1: the liar's three roots in one transaction (its roots differ: each tree has its own lie).
    let receipt = await (await as(d.game, liar).multicall(await Promise.all(games.map((g, k) => revealCall(g, liars[k]))))).wait();
    expect(eventsIn(receipt, d.game, "Revealed")).toHaveLength(3);
    expect(eventsIn(receipt, d.game, "CallFailed")).toHaveLength(0);
    // The other challenger's game needs the honest root revealed.
    await (await as(d.game, d.signers[4]).multicall([await revealCall(othersGame, honest)])).wait();

    // The challenger's three choices, with a malformed one and a move in the other challenger's game between them.
    const calls = [await chooseCall(games[0]), await chooseCall(games[1], 16), await chooseCall(othersGame, 0), await chooseCall(games[1]), await chooseCall(games[2])];
    const ok = await as(d.game, challenger).multicall.staticCall(calls);
    expect([...ok]).toEqual([true, false, false, true, true]);
    receipt = await (await as(d.game, challenger).multicall(calls, { gasLimit: 2_000_000 })).wait();
    const failed = eventsIn(receipt, d.game, "CallFailed");
    expect(failed.map((e) => [Number(e.args.index), d.game.interface.parseError(e.args.reason)?.name])).toEqual([
      [1, "MoveMalformed"],
      [2, "NotYourTurn"],
    ]);
    const chosen = eventsIn(receipt, d.game, "Chosen");
    expect(chosen.map((e) => e.args.gameId)).toEqual(games);
    for (const [k, g] of games.entries()) {
      const p = await position(d, g);
      expect(p.depth).toBe(SPLIT_BITS);
      expect(p.index).toBe(LIES[k] >> (trace.depth - SPLIT_BITS)); // the node holding the lie
    }
    expect((await position(d, othersGame)).depth).toBe(0); // untouched
    expect(new Set(chosen.map((e) => e.args.index)).size).toBe(3); // three different nodes: the games have parted

    // The rest of the games, a batch of reveals and a batch of choices a round, then the proofs in one batch.
    for (;;) {
      const positions = await Promise.all(games.map((g) => position(d, g)));
      if (positions.every((p) => p.levels === 0)) break;
      await (await as(d.game, liar).multicall(await Promise.all(games.map((g, k) => revealCall(g, liars[k]))))).wait();
      await (await as(d.game, challenger).multicall(await Promise.all(games.map((g) => chooseCall(g))), { gasLimit: 2_000_000 })).wait();
    }
    const proofs = await Promise.all(games.map(async (g) => encode("prove", [g, ...proveArgs(honest.tree, trace, await position(d, g))])));
    // The gas limit: the sum of what each proof needs alone, and a margin. (An estimate of the batch itself
    // would be what keeps multicall() from reverting, which it never does: the inner calls could run out.)
    let gas = 0n;
    for (const g of games) gas += await as(d.game, challenger).prove.estimateGas(g, ...proveArgs(honest.tree, trace, await position(d, g)));
    receipt = await (await as(d.game, d.signers[9]).multicall(proofs, { gasLimit: (gas * 12n) / 10n + 50_000n })).wait();
    expect(eventsIn(receipt, d.game, "CallFailed")).toHaveLength(0);
    expect(eventsIn(receipt, d.game, "Proved").map((e) => [e.args.step, e.args.defenderWon])).toEqual(LIES.map((L) => [BigInt(L), false]));
    for (const g of games) expect((await d.game.game(g)).challengerWon).toBe(true);
    for (const g of games) expect((await d.oracle.getClaim((await d.game.game(g)).claimId)).status).toBe(VOID);
    await expectBondInvariant(d);
  });

  it("a multicall cannot start games or act for the oracle: the inner call runs with the sender's own identity", async () => {
    const stranger = d.signers[7];
    const calls = [encode("start", [1n << 32n, await stranger.getAddress(), ethers.ZeroHash, 12]), encode("timeout", [999n])];
    const receipt = await (await as(d.game, stranger).multicall(calls)).wait();
    expect(eventsIn(receipt, d.game, "CallFailed").map((e) => d.game.interface.parseError(e.args.reason)?.name)).toEqual(["NotOracle", "GameNotActive"]);
    expect(await d.game.gameCount()).toBe(4n);
  });
});
