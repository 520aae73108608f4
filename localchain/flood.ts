/**
 * Flood scenarios: "one honest, funded, online party always wins", each on a fresh `hardhat node` with automine
 * off and a block every ~250 ms of wall time at +12 s of chain time (miner.ts), the protocol at its default
 * parameters (bonds 1 / 0.5 ETH, window 3600 s, clock 1800 s, m = 4), the MNIST model, and the honest party as a
 * real `mlvm challenger` process; the dishonest parties are scripted here (flood-bots.ts).
 *   1. floodOfLies: 64 lying claims from 64 keys in one block, the liars answering every move at once; one
 *      honest challenger daemon.
 *   2. floodOfChallenges: 64 challenges of one honest claim, from one key or from 64, each game played to lose
 *      slowly (every move stalled until the attacker's clock is nearly out, the paths spread over many nodes);
 *      the claimant's daemon with --defend-only.
 *   3. liarAndAccomplice: a liar whose second key challenges its claim too and is let to win first (the liar
 *      reveals only what its accomplice's game needs); one honest challenger daemon.
 * Each returns its figures (games, blocks to resolve, the honest daemon's moves per block, distinct reveals, the
 * least clock the honest side had left, wall time) and the facts the slow tests (test/e2e/flood-*.slow.test.ts)
 * assert; the benchmark prints the figures.
 */
import { writeFileSync } from "node:fs";
import { ethers } from "ethers";
import { reasonOfBytes } from "../challenger/agent-batch.js";
import { ClaimBook } from "../challenger/claim-book.js";
import { type ClaimView, finalArgs, honestClaim, modelFields } from "../challenger/claims.js";
import { DEFAULT_PARAMS } from "../challenger/deployments.js";
import { proveArgs } from "../challenger/protocol.js";
import { claimView, proposeClaim } from "../challenger/proposer.js";
import { findRequest } from "../challenger/requests.js";
import { TraceTree } from "../challenger/trace-tree.js";
import { claimBookPath } from "../cli/chain-options.js";
import { witnessArgs } from "../evm/witness-args.js";
import { TAG, taggedHash, toHex } from "../vm/hash.js";
import { until } from "./daemon-process.js";
import { type Attack, challengers, distinctLeaves, revealer } from "./flood-bots.js";
import type { Engine } from "./local-node.js";
import { type Stage, eventsSince, extraKeys, feesOf, fund, idTopic, leastClockLeft, mnistImage, movesPerBlock, openStage, requestImages } from "./flood-env.js";
import { setAutomine } from "./miner.js";

/** Hardhat accounts: 1 requests, 2 the honest claimant, 3 the liar, 4 the honest challenger, 5 funds new keys,
 * 6 the single attacker, 7 the liar's accomplice. */
const REQUESTER = 1;
const CLAIMANT = 2;
const LIAR = 3;
const HONEST = 4;
const FUNDER = 5;
const ATTACKER = 6;
const ACCOMPLICE = 7;

export interface FloodOptions {
  /** Wall-clock milliseconds per block (default 250). */
  blockMs?: number;
  /** Lying claims (scenario 1) or attacking keys (scenario 2 with several keys); default 64. */
  count?: number;
  /** Progress lines. */
  say?: (line: string) => void;
  /** Where to write the honest daemon's JSON log lines when the scenario ends (for a look at its timeline). */
  logFile?: string;
  /** The chain's engine (default: $MLVM_CHAIN_ENGINE, else hardhat; flood-env.ts stageEngine). */
  engine?: Engine;
  /** Further options of the honest daemon (scenario 1), e.g. a small --gas-budget to split each round's moves. */
  honestArgs?: string[];
}

function keepLog(o: FloodOptions, lines: readonly Record<string, unknown>[]): void {
  if (o.logFile) writeFileSync(o.logFile, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
}

/**
 * Runs a scenario on a fresh stage: `run` gets the stage, the scenario's start (for totalWallMs) and `watch`, which
 * names the honest daemon whose log lines are kept (o.logFile); the stage is closed however the scenario ends.
 */
async function onStage<T>(o: FloodOptions, run: (stage: Stage, began: number, watch: (lines: Record<string, unknown>[]) => void) => Promise<T>): Promise<T> {
  const began = performance.now();
  const stage = await openStage({ engine: o.engine });
  let logged: Record<string, unknown>[] = [];
  try {
    return await run(stage, began, (lines) => (logged = lines));
  } finally {
    keepLog(o, logged);
    await stage.close();
  }
}

export interface FloodFigures {
  scenario: string;
  games: number;
  /** Blocks from the flood's first block (claims, or challenges) to its resolution (last void, or last game over). */
  blocksToResolve: number;
  /** The honest daemon's game moves per block, over the blocks in which it moved. */
  honestMovesPerBlock: { max: number; mean: number; blocks: number; moves: number; mostBatchesInABlock: number };
  /** Reveals on the game contract: one per distinct (node, levels), however many games shared it. */
  distinctReveals: number;
  /** The least clock (s) the honest daemon had left at any move it made in the scenario's role, of `clock`. */
  leastClockLeft: number;
  clock: number;
  /** Wall time of the flood, from its first transaction to its resolution. */
  wallMs: number;
  /** Wall time of the whole scenario, node start to stop. */
  totalWallMs: number;
}

const BLOCK_MS = 250;
const CLOCK = DEFAULT_PARAMS.clock;

export function figuresLine(f: FloodFigures): string {
  const m = f.honestMovesPerBlock;
  return `${f.scenario}: ${f.games} games, resolved in ${f.blocksToResolve} blocks (${(f.wallMs / 1000).toFixed(1)} s wall), honest moves per block max ${m.max} mean ${m.mean.toFixed(1)} over ${m.blocks} blocks (${m.moves} moves, up to ${m.mostBatchesInABlock} batches in a block), ${f.distinctReveals} distinct reveals, least clock left ${f.leastClockLeft} s of ${f.clock} s; scenario ${(f.totalWallMs / 1000).toFixed(1)} s`;
}

// ——— 1. a flood of lies ———

export interface LiesResult {
  figures: FloodFigures;
  claims: number;
  /** The blocks the claims landed in (one, if they all went in the same block). */
  claimBlocks: number[];
  voided: number;
  /** Lies voided by a game the honest daemon won. */
  voidedByHonest: number;
  /** Challenge transactions the daemon sent, and the most claims one of them held. */
  challengeTxs: number;
  mostChallengesInOneTx: number;
  honestBefore: bigint;
  honestAfter: bigint;
}

export async function floodOfLies(o: FloodOptions = {}): Promise<LiesResult> {
  const n = o.count ?? 64;
  const say = o.say ?? (() => {});
  return onStage(o, async (stage, began, watch) => {
    const { oracle } = stage.owner;
    const model = stage.shelved.model;
    const N = model.meta.steps;
    const liars = extraKeys(1000, n).map((k) => stage.wallet(k));
    await fund((await stage.chain(FUNDER)).wallet, liars.map((w) => w.address), ethers.parseEther("2"));
    const requests = await requestImages(await stage.chain(REQUESTER), stage.shelved, [...Array(n).keys()]);
    // Each lie is wrong from a random step on: that state and every later one (and the output) are garbage.
    const views = requests.map((_, k) => claimView(stage.shelved.machine.trace(mnistImage(k)), { step: 1 + Math.floor(Math.random() * N) }));
    say(`${n} liars funded, ${n} requests made, ${n} lying claims built`);

    const honest = stage.daemon({ account: HONEST, name: "honest challenger", extra: o.honestArgs });
    watch(honest.lines);
    const started = await honest.waitFor("start", (l) => l.event === "start", 90);
    const honestAddress = started.address as string;
    const honestBefore = await stage.provider.getBalance(honestAddress);

    // Every claim sent while no block is mined, then the chain starts: they land together.
    await setAutomine(stage.rpc, false);
    const fees = await stage.provider.getFeeData();
    const claimTxs = await Promise.all(
      liars.map((w, k) =>
        w.sendTransaction({
          to: oracle.target as string,
          data: oracle.interface.encodeFunctionData("claim", [requests[k], modelFields(model), toHex(views[k].tree.root), ...finalArgs(views[k], N)]),
          value: DEFAULT_PARAMS.claimBond,
          gasLimit: 400_000n,
          nonce: 0,
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        }),
      ),
    );
    const floodBegan = performance.now();
    await stage.mine(o.blockMs ?? BLOCK_MS);
    const receipts = await Promise.all(claimTxs.map(async (t) => (await t.wait())!));
    const claimIds = receipts.map((r) => oracle.interface.parseLog(r.logs.find((l) => oracle.interface.parseLog(l)?.name === "Claimed")!)!.args.claimId as bigint);
    const claimBlocks = [...new Set(receipts.map((r) => r.blockNumber))];
    say(`${n} lying claims in block(s) ${claimBlocks.join(", ")}`);

    // The liars answer every game at once, all reveals from one key (reveals are anyone's).
    const liar = revealer(stage, liars[0], new Map(claimIds.map((id, k) => [id.toString(), views[k].tree])));
    stage.everyBlock(liar.step);
    const first = Math.min(...claimBlocks);
    const voids = await until(`all ${n} lies void`, 170, async () => {
      const v = await eventsSince(oracle, "ClaimVoided", first);
      return v.length >= n && v;
    });
    const floodMs = performance.now() - floodBegan;
    const lastVoid = Math.max(...voids.map((v) => v.blockNumber));
    say(`all ${n} lies void by block ${lastVoid}`);
    await until("the honest daemon's withdrawal of its winnings", 60, async () => (await oracle.credit(honestAddress)) === 0n && honest.lines.some((l) => l.event === "withdraw" && Number(l.block) >= lastVoid));
    const honestAfter = await stage.provider.getBalance(honestAddress);
    const batches = honest.lines.filter((l) => l.event === "challenge-batch");
    return {
      figures: {
        scenario: `${n} lying claims in one block${o.honestArgs?.length ? ` (honest daemon ${o.honestArgs.join(" ")})` : ""}`,
        games: (await eventsSince(oracle, "Challenged", first)).length,
        blocksToResolve: lastVoid - first,
        honestMovesPerBlock: movesPerBlock(honest.lines),
        distinctReveals: (await eventsSince(stage.owner.game, "Revealed", first)).length,
        leastClockLeft: leastClockLeft(honest.lines, "challenger"),
        clock: CLOCK,
        wallMs: floodMs,
        totalWallMs: performance.now() - began,
      },
      claims: claimIds.length,
      claimBlocks,
      voided: voids.length,
      voidedByHonest: voids.filter((v) => (v.args.winner as string).toLowerCase() === honestAddress.toLowerCase()).length,
      challengeTxs: batches.length,
      mostChallengesInOneTx: Math.max(0, ...batches.map((l) => Number(l.claims))),
      honestBefore,
      honestAfter,
    };
  });
}

// ——— 2. a flood of challenges ———

export interface ChallengesResult {
  figures: FloodFigures;
  claimId: bigint;
  /** Challenge attempts, games opened, and why the others were turned away (ChallengeSkipped reasons). */
  attempts: number;
  games: number;
  skipped: string[];
  /** Games the claim's defender won. */
  defenderWon: number;
  finalized: boolean;
  /** The claim's deadline and the time of the block that finalized it. */
  deadline: number;
  finalizedAt: number;
  /** What each attacking key lost (balance before − after, its credits withdrawn), and the challenge bond. */
  attackerLosses: bigint[];
  bond: bigint;
  claimantGain: bigint;
}

/** 64 challenges of one honest claim, from `keys` = 1 key (one game, the rest turned away) or from 64 keys. */
export async function floodOfChallenges(o: FloodOptions & { keys: "one" | "many" }): Promise<ChallengesResult> {
  const n = o.count ?? 64;
  const say = o.say ?? (() => {});
  return onStage(o, async (stage, began, watch) => {
    const { oracle } = stage.owner;
    const bond = DEFAULT_PARAMS.challengeBond;
    const N = stage.shelved.model.meta.steps;
    const claimant = await stage.chain(CLAIMANT);
    const [requestId] = await requestImages(await stage.chain(REQUESTER), stage.shelved, [0]);
    const book = new ClaimBook(claimBookPath(stage.stateDir, claimant.chainId, claimant.address));
    const claim = await proposeClaim(claimant, stage.shelved, await findRequest(claimant, requestId), book);
    const claimId = claim.claimId;
    const keys = o.keys === "one" ? [(await stage.chain(ATTACKER)).wallet] : extraKeys(2000, n).map((k) => stage.wallet(k));
    if (o.keys === "many") await fund((await stage.chain(FUNDER)).wallet, keys.map((w) => w.address), ethers.parseEther("1"));
    const before = await Promise.all(keys.map((w) => stage.provider.getBalance(w.address)));
    const claimantBefore = await stage.provider.getBalance(claimant.address);
    say(`honest claim ${claimId}; ${keys.length} attacking key(s)`);

    const defender = stage.daemon({ account: CLAIMANT, extra: ["--defend-only"], name: "claimant" });
    watch(defender.lines);
    await defender.waitFor("start", (l) => l.event === "start", 90);
    await stage.mine(o.blockMs ?? BLOCK_MS);
    const floodBegan = performance.now();

    // The challenges: one key tries n times in one challengeMany, or n keys once each, all sent at once.
    const to = oracle.target as string;
    const sent =
      o.keys === "one"
        ? [await keys[0].sendTransaction({ to, data: oracle.interface.encodeFunctionData("challengeMany", [Array(n).fill(claimId)]), value: bond * BigInt(n), gasLimit: 6_000_000n })]
        : await Promise.all(keys.map((w) => w.sendTransaction({ to, data: oracle.interface.encodeFunctionData("challenge", [claimId]), value: bond, gasLimit: 400_000n })));
    const receipts = await Promise.all(sent.map(async (t) => (await t.wait())!));
    const first = Math.min(...receipts.map((r) => r.blockNumber));
    const opened = await eventsSince(oracle, "Challenged", first, [idTopic(claimId)]);
    const skipped = (await eventsSince(oracle, "ChallengeSkipped", first, [idTopic(claimId)])).map((e) => reasonOfBytes(e.args.reason as string));
    say(`${opened.length} game(s) opened, ${skipped.length} challenge(s) turned away`);

    // Each game heads for its own leaf (spreading the defender over many nodes), stalled to the last minute.
    const wallets = new Map(keys.map((w) => [w.address.toLowerCase(), w]));
    const honestTree = TraceTree.fromTrace(stage.shelved.machine.trace(mnistImage(0)));
    const targets = distinctLeaves(opened.length, 1, N);
    const attacks: Attack[] = opened.map((e, k) => ({
      gameId: e.args.gameId as bigint,
      wallet: wallets.get((e.args.challenger as string).toLowerCase())!,
      target: targets[k],
      // At the leaf half of them prove (and lose by the step), half let their clock run out.
      proveArgs: Math.random() < 0.5 ? (p) => proveArgs(honestTree, stage.shelved.machine.trace(mnistImage(0)), p) : undefined,
      reservePerMove: 60,
    }));
    const bot = challengers(stage, attacks, DEFAULT_PARAMS.splitBits);
    stage.everyBlock(bot.step);

    const finalized = await until("the claim's finalization", 170, async () => (await eventsSince(oracle, "Finalized", claim.receipt.blockNumber, [idTopic(claimId)]))[0]);
    const floodMs = performance.now() - floodBegan;
    const results = await eventsSince(oracle, "GameResolved", first, [idTopic(claimId)]);
    const lastGame = Math.max(...results.map((r) => r.blockNumber));
    say(`all games over by block ${lastGame}; claim final in block ${finalized.blockNumber}`);
    await until("the claimant's withdrawal", 60, async () => (await oracle.credit(claimant.address)) === 0n && defender.lines.some((l) => l.event === "withdraw" && Number(l.block) > finalized.blockNumber));
    // The attackers take back what was credited to them (the bonds of the challenges turned away).
    for (const w of keys) if ((await oracle.credit(w.address)) > 0n) await (await oracle.connect(w).getFunction("withdraw")()).wait();
    const after = await Promise.all(keys.map((w) => stage.provider.getBalance(w.address)));
    return {
      figures: {
        scenario: `${n} challenges of one honest claim from ${o.keys === "one" ? "one key" : `${keys.length} keys`}`,
        games: opened.length,
        blocksToResolve: lastGame - first,
        honestMovesPerBlock: movesPerBlock(defender.lines),
        distinctReveals: (await eventsSince(stage.owner.game, "Revealed", first)).length,
        leastClockLeft: leastClockLeft(defender.lines, "defender"),
        clock: CLOCK,
        wallMs: floodMs,
        totalWallMs: performance.now() - began,
      },
      claimId,
      attempts: n,
      games: opened.length,
      skipped,
      defenderWon: results.filter((r) => r.args.defenderWon === true).length,
      finalized: true,
      deadline: claim.deadline,
      finalizedAt: (await stage.provider.getBlock(finalized.blockNumber))!.timestamp,
      attackerLosses: before.map((b, k) => b - after[k]),
      bond,
      claimantGain: (await stage.provider.getBalance(claimant.address)) - claimantBefore,
    };
  });
}

// ——— 3. a liar and its accomplice ———

export interface AccompliceResult {
  figures: FloodFigures;
  claimId: bigint;
  /** The leaf the lie is at: the accomplice proves the next one, the honest daemon this one. */
  lieAt: number;
  voidedBy: string;
  accomplice: string;
  honest: string;
  winners: number;
  share: bigint;
  burned: bigint;
  honestCollected: boolean;
  honestBefore: bigint;
  honestAfter: bigint;
  /** The liar's two keys together: balance before − after, and what they paid in fees. */
  liarLoss: bigint;
  liarFees: bigint;
  claimBond: bigint;
}

/**
 * A lie that has two winning leaves on different paths: s(k) has a wrong step counter, with k the last leaf of a
 * depth-m subtree, so the honest challenger proves leaf k (the step from s(k−1) does not give it) while an
 * accomplice who agrees with the lie up to s(k) proves leaf k+1 (the step from the wrong s(k) does not give the
 * honest s(k+1)), down another subtree from the first round on: the liar can serve one game and starve the other.
 */
function twoPathLie(stage: Stage, image: number, k: number) {
  const trace = stage.shelved.machine.trace(mnistImage(image));
  const honest = honestClaim(trace);
  const pre = trace.witness(k);
  const wrong = pre.preState.slice();
  new DataView(wrong.buffer).setBigUint64(64, BigInt(k + 1000), false);
  const leaves = Array.from({ length: trace.steps + 1 }, (_, s) => trace.stateHash(s));
  leaves[k] = taggedHash(TAG.state, wrong);
  const view: ClaimView = { ...honest, tree: new TraceTree(leaves) };
  const witness = witnessArgs({ ...pre, preState: wrong });
  return { view, witness };
}

export async function liarAndAccomplice(o: FloodOptions = {}): Promise<AccompliceResult> {
  const say = o.say ?? (() => {});
  return onStage(o, async (stage, began, watch) => {
    const { oracle } = stage.owner;
    const m = DEFAULT_PARAMS.splitBits;
    const N = stage.shelved.model.meta.steps;
    const image = Math.floor(Math.random() * 100);
    const [requestId] = await requestImages(await stage.chain(REQUESTER), stage.shelved, [image]);
    const subtree = 2 ** (Math.ceil(Math.log2(N + 1)) - m); // leaves under a node the first round discloses (trace depth D − m)
    const k = subtree * (1 + Math.floor(Math.random() * Math.floor((N - 1) / subtree - 1))) - 1;
    const lie = twoPathLie(stage, image, k);
    const liar = await stage.chain(LIAR);
    const accomplice = await stage.chain(ACCOMPLICE);
    const honest = stage.daemon({ account: HONEST, name: "honest challenger" });
    watch(honest.lines);
    const honestAddress = ((await honest.waitFor("start", (l) => l.event === "start", 90)).address as string).toLowerCase();
    const balances = () => Promise.all([liar.address, accomplice.address, honestAddress].map((a) => stage.provider.getBalance(a)));
    const [liarBefore, accompliceBefore, honestBefore] = await balances();
    await stage.mine(o.blockMs ?? BLOCK_MS);
    const floodBegan = performance.now();

    const liarTxs: string[] = [];
    const track = async (tx: Promise<ethers.ContractTransactionResponse>) => {
      const t = await tx;
      liarTxs.push(t.hash);
      return (await t.wait())!;
    };
    const claimed = await track(oracle.connect(liar.wallet).getFunction("claim")(requestId, modelFields(stage.shelved.model), toHex(lie.view.tree.root), ...finalArgs(lie.view, N), { value: DEFAULT_PARAMS.claimBond, gasLimit: 400_000n }));
    const claimId = oracle.interface.parseLog(claimed.logs.find((l) => oracle.interface.parseLog(l)?.name === "Claimed")!)!.args.claimId as bigint;
    say(`the liar claims ${claimId} with a wrong state at step ${k}`);
    // The honest daemon challenges; then the accomplice does.
    await until("the honest daemon's challenge", 60, async () => (await eventsSince(oracle, "Challenged", claimed.blockNumber, [idTopic(claimId)])).length > 0);
    const challenged = await track(oracle.connect(accomplice.wallet).getFunction("challenge")(claimId, { value: DEFAULT_PARAMS.challengeBond, gasLimit: 400_000n }));
    const gameId = oracle.interface.parseLog(challenged.logs.find((l) => oracle.interface.parseLog(l)?.name === "Challenged")!)!.args.gameId as bigint;

    // The liar reveals only for its accomplice's game; the accomplice heads for leaf k + 1 and proves it at once.
    const revealing = revealer(stage, liar.wallet, new Map([[claimId.toString(), lie.view.tree]]), (challenger) => challenger === accomplice.address.toLowerCase());
    const playing = challengers(stage, [{ gameId, wallet: accomplice.wallet, target: k + 1, reservePerMove: Infinity, proveArgs: (p) => [toHex(lie.view.tree.leaf(k)), lie.view.tree.path(0, k, p.agreedHeight).map(toHex), lie.witness] }], m);
    stage.everyBlock(revealing.step);
    stage.everyBlock(playing.step);

    const voided = await until("the claim void", 120, async () => (await eventsSince(oracle, "ClaimVoided", claimed.blockNumber, [idTopic(claimId)]))[0]);
    say(`claim void, won by ${voided.args.winner === accomplice.address ? "the accomplice" : "the honest daemon"} in block ${voided.blockNumber}`);
    const settled = await until("the claim settled", 120, async () => (await eventsSince(oracle, "ClaimSettled", claimed.blockNumber, [idTopic(claimId)]))[0]);
    const floodMs = performance.now() - floodBegan;
    // The liar's side takes all it can: the accomplice's bond back and its share.
    const [, , accompliceDue] = (await oracle.gameOfChallenger(claimId, accomplice.address)) as [boolean, bigint, boolean];
    if (accompliceDue) await track(oracle.connect(accomplice.wallet).getFunction("collectReward")(claimId, accomplice.address));
    for (const c of [liar, accomplice]) if ((await oracle.credit(c.address)) > 0n) await track(oracle.connect(c.wallet).getFunction("withdraw")());
    await until("the honest daemon's withdrawal", 90, async () => (await oracle.credit(honestAddress)) === 0n && honest.lines.some((l) => l.event === "withdraw" && Number(l.block) >= settled.blockNumber));
    const [liarAfter, accompliceAfter, honestAfter] = await balances();
    const liarFees = await feesOf(stage.provider, [...liarTxs, ...revealing.record.txs, ...playing.record.txs]);
    return {
      figures: {
        scenario: "a liar and its accomplice against one honest challenger",
        games: (await eventsSince(oracle, "Challenged", claimed.blockNumber, [idTopic(claimId)])).length,
        blocksToResolve: settled.blockNumber - claimed.blockNumber,
        honestMovesPerBlock: movesPerBlock(honest.lines),
        distinctReveals: (await eventsSince(stage.owner.game, "Revealed", claimed.blockNumber)).length,
        leastClockLeft: leastClockLeft(honest.lines, "challenger"),
        clock: CLOCK,
        wallMs: floodMs,
        totalWallMs: performance.now() - began,
      },
      claimId,
      lieAt: k,
      voidedBy: (voided.args.winner as string).toLowerCase(),
      accomplice: accomplice.address.toLowerCase(),
      honest: honestAddress,
      winners: Number(settled.args.winners),
      share: settled.args.share as bigint,
      burned: settled.args.burnedAmount as bigint,
      honestCollected: honest.lines.some((l) => l.event === "reward-collected" && l.claim === claimId.toString()),
      honestBefore,
      honestAfter,
      liarLoss: liarBefore + accompliceBefore - liarAfter - accompliceAfter,
      liarFees,
      claimBond: DEFAULT_PARAMS.claimBond,
    };
  });
}
