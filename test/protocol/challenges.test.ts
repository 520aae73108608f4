/**
 * One game per (claim, challenger): a second challenge from the same key adds nothing and is refused; a batch of
 * challenges (challengeMany) starts a game for each claim that can be challenged and skips the rest, crediting
 * their bonds back to the sender, to the wei.
 */
import { ethers } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { mnist, mnistInput } from "../helpers/models.js";
import {
  CHALLENGE_BOND,
  CLAIM_BOND,
  OPEN,
  VOID,
  advance,
  chainTime,
  challengeClaim,
  challengeMany,
  deployWithModel,
  eventsIn,
  expectBondInvariant,
  expectRevert,
  honestClaim,
  lyingClaim,
  playGame,
  postClaim,
  requestInference,
  type ClaimView,
  type Deployment,
} from "./harness.js";

const model = mnist();
const modelId = model.meta.commitment;
const input = mnistInput(8000);
const trace = new WasmMachine(model).trace(input);
const honest = honestClaim(trace);

let d: Deployment;
const addr = (s: ethers.Signer) => s.getAddress();
const as = (c: ethers.Contract, s: ethers.Signer) => c.connect(s) as ethers.Contract;

beforeAll(async () => {
  d = await deployWithModel(model, { window: 600 });
});

async function claim(claimant: ethers.Signer, view: ClaimView = honest) {
  const { requestId } = await requestInference(d, modelId, input);
  return (await postClaim(d, claimant, requestId, view, model)).claimId;
}

/** The custom error's name in a ChallengeSkipped reason. */
const reasonName = (reason: string) => d.oracle.interface.parseError(reason)?.name;

describe("one game per (claim, challenger)", () => {
  it("a second challenge from the same key reverts AlreadyChallenged(claimId, challenger); another key may still challenge", async () => {
    const [claimant, c1, c2] = [d.signers[1], d.signers[2], d.signers[3]];
    const claimId = await claim(claimant);
    const { gameId } = await challengeClaim(d, c1, claimId);
    await expectRevert(as(d.oracle, c1).challenge(claimId, { value: CHALLENGE_BOND }), "AlreadyChallenged", d.oracle);
    // Through challengeMany it is skipped, with the same error, naming the claim and the key.
    const { skipped } = await challengeMany(d, c1, [claimId]);
    const reason = d.oracle.interface.parseError(skipped[0].reason)!;
    expect(reason.name).toBe("AlreadyChallenged");
    expect([...reason.args]).toEqual([claimId, await addr(c1)]);
    expect([...(await d.oracle.gameOfChallenger(claimId, await addr(c1)))]).toEqual([true, gameId, false]);
    const second = await challengeClaim(d, c2, claimId);
    expect(second.gameId).toBe(gameId + 1n);
    expect((await d.oracle.getClaim(claimId)).openGames).toBe(2n);
    // Even after its game is over, a key cannot challenge the same claim again.
    await playGame(d, gameId, { signer: claimant, tree: honest.tree }, { signer: c1, tree: lyingClaim(trace, 100).tree, trace });
    await expectRevert(as(d.oracle, c1).challenge(claimId, { value: CHALLENGE_BOND }), "AlreadyChallenged", d.oracle);
    await expectBondInvariant(d);
  });
});

describe("challengeMany", () => {
  it("starts a game for each claim it can; skips duplicates, a void claim, a closed window, an unknown claim and the sender's own claim (ChallengeSkipped), crediting each skipped bond back", async () => {
    const [claimant, challenger, winner] = [d.signers[4], d.signers[5], d.signers[6]];
    // A claim whose window will have closed: made first, 600 s before the batch.
    const closed = await claim(claimant);
    await advance(300);
    const ownClaim = await claim(challenger);
    const a = await claim(claimant);
    const b = await claim(claimant);
    // A void claim: a lie, beaten by another challenger.
    const liar = lyingClaim(trace, trace.steps);
    const voided = await claim(claimant, liar);
    const { gameId } = await challengeClaim(d, winner, voided);
    await playGame(d, gameId, { signer: claimant, tree: liar.tree }, { signer: winner, tree: honest.tree, trace });
    expect((await d.oracle.getClaim(voided)).status).toBe(VOID);
    const c = await claim(claimant);
    await advance(301);
    const now = await chainTime();
    expect(Number((await d.oracle.getClaim(closed)).deadline)).toBeLessThan(now);
    expect(Number((await d.oracle.getClaim(a)).deadline)).toBeGreaterThan(now);
    const unknown = (a & ~0xffffffffn) | 77n; // a's request, an attempt never made

    const challengerAddress = await addr(challenger);
    const before = await d.oracle.credit(challengerAddress);
    const ids = [a, b, a, voided, closed, unknown, ownClaim, c, b];
    await expectRevert(as(d.oracle, challenger).challengeMany(ids, { value: CHALLENGE_BOND * BigInt(ids.length) - 1n }), "WrongBond", d.oracle);
    await expectRevert(as(d.oracle, challenger).challengeMany(ids, { value: CHALLENGE_BOND }), "WrongBond", d.oracle);
    const { receipt, started, skipped } = await challengeMany(d, challenger, ids);
    expect(started.map((s) => s.claimId)).toEqual([a, b, c]);
    expect(skipped.map((s) => [s.claimId, reasonName(s.reason)])).toEqual([
      [a, "AlreadyChallenged"],
      [voided, "ClaimNotOpen"],
      [closed, "ChallengeWindowClosed"],
      [unknown, "ClaimUnknown"],
      [ownClaim, "ChallengerIsClaimant"],
      [b, "AlreadyChallenged"],
    ]);
    for (const s of skipped) expect(s.challenger).toBe(await addr(challenger));
    // One deposit of every bond sent; a credit back for each skipped one.
    expect(eventsIn(receipt, d.oracle, "Deposited").map((e) => e.args.amount)).toEqual([CHALLENGE_BOND * BigInt(ids.length)]);
    const credited = eventsIn(receipt, d.oracle, "Credited").map((e) => [e.args.account, e.args.amount]);
    expect(credited).toEqual(skipped.map(() => [challengerAddress, CHALLENGE_BOND]));
    expect((await d.oracle.credit(await addr(challenger))) - before).toBe(6n * CHALLENGE_BOND);
    for (const s of started) {
      const [exists, game] = await d.oracle.gameOfChallenger(s.claimId, await addr(challenger));
      expect(exists).toBe(true);
      expect(game).toBe(s.gameId);
      expect((await d.game.game(s.gameId)).challenger).toBe(await addr(challenger));
      expect((await d.oracle.getClaim(s.claimId)).status).toBe(OPEN);
    }
    const l = await expectBondInvariant(d);
    // At stake now: the open claims' bonds and the open games' bonds, the three just started among them.
    expect(l.challengeBonds).toBeGreaterThanOrEqual(3n * CHALLENGE_BOND);
    expect(l.claimBonds).toBeGreaterThanOrEqual(3n * CLAIM_BOND);
  });

  it("an empty batch, with no value, does nothing", async () => {
    const { started, skipped } = await challengeMany(d, d.signers[7], []);
    expect(started).toHaveLength(0);
    expect(skipped).toHaveLength(0);
    await expectBondInvariant(d);
  });
});
