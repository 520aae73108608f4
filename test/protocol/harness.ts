/**
 * The dispute protocol on the Hardhat network, in-process: deploys the registry, the verifier and the oracle
 * (which creates the game), registers the MNIST model, and plays claims and games with the moves of
 * challenger/moves.ts, honest or lying. Amounts are in wei; times in seconds.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import { expect } from "vitest";
import { WasmMachine, type Trace } from "../../interpreter/wasm/machine.js";
import { TraceTree } from "../../challenger/trace-tree.js";
import { type ClaimView, finalArgs, honestClaim, inputLeaves, lyingClaim, modelFields } from "../../challenger/claims.js";
import { type Position, chooseMove, revealMove } from "../../challenger/moves.js";
import { type Contracts, EMPTY_WITNESS, clockLeft, deployContracts, eventsIn, playGame, position, postClaim, proveArgs, revealedNodes, turnOf } from "../../challenger/protocol.js";
import { DEFAULT_PARAMS } from "../../challenger/deployments.js";
import { taggedHash, toHex, TAG } from "../../vm/hash.js";

export { type ClaimView, finalArgs, honestClaim, inputLeaves, lyingClaim, eventsIn, playGame, position, postClaim, proveArgs, revealedNodes, turnOf, clockLeft, EMPTY_WITNESS };

/** InferenceOracle.ClaimStatus. */
export const OPEN = 1n;
export const VOID = 2n;
export const FINAL = 3n;

export const CLAIM_BOND = ethers.parseEther("1");
export const CHALLENGE_BOND = ethers.parseEther("0.5");
export const WINDOW = 3600;
export const CLOCK = 1800;
export const SPLIT_BITS = DEFAULT_PARAMS.splitBits;

// cacheTimeout -1: ethers otherwise answers an identical request made within 250 ms from a cache, so a call
// repeated after time travel would see the chain as it was.
export const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });

/** Moves the chain's clock forward and mines a block (straight to Hardhat's provider: ethers caches blocks). */
export async function advance(seconds: number): Promise<void> {
  await hre.network.provider.request({ method: "evm_increaseTime", params: [seconds] });
  await hre.network.provider.request({ method: "evm_mine", params: [] });
}

/** Sets the timestamp of the next block (the next transaction's, with automining). */
export async function nextBlockAt(time: number): Promise<void> {
  await hre.network.provider.request({ method: "evm_setNextBlockTimestamp", params: [time] });
}

/** The latest block's timestamp. */
export async function chainTime(): Promise<number> {
  const block = (await hre.network.provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as { timestamp: string };
  return Number(block.timestamp);
}

export interface Deployment extends Contracts {
  signers: ethers.Signer[];
}

/** The protocol on the in-process Hardhat network, with this harness's bonds and times unless overridden. */
export async function deployProtocol(options: { window?: number; clock?: number; splitBits?: number } = {}): Promise<Deployment> {
  const signers = await Promise.all(Array.from({ length: 10 }, (_, k) => provider.getSigner(k)));
  const contracts = await deployContracts(signers[0], { claimBond: CLAIM_BOND, challengeBond: CHALLENGE_BOND, window: options.window ?? WINDOW, clock: options.clock ?? CLOCK, splitBits: options.splitBits ?? SPLIT_BITS });
  return { ...contracts, signers };
}

/** deployProtocol(), then `model` registered (with no weights URI). */
export async function deployWithModel(model: Parameters<typeof modelFields>[0], options: Parameters<typeof deployProtocol>[0] = {}): Promise<Deployment> {
  const d = await deployProtocol(options);
  await (await d.registry.register(modelFields(model), "")).wait();
  return d;
}

/** The model's commitment fields, as the contracts take them. */
export const modelStruct = modelFields;

/**
 * Where every wei the oracle holds is, from its events and views: what was deposited and withdrawn, what is
 * credited (to every account ever credited or depositing), the bonds at stake (open claims' claim bonds, void
 * claims' bonds while a game against them is open, open games' challenge bonds), what is burned, and the shares
 * of settled claims not collected yet.
 */
export interface Ledger {
  balance: bigint;
  deposited: bigint;
  withdrawn: bigint;
  credits: bigint;
  claimBonds: bigint;
  challengeBonds: bigint;
  burned: bigint;
  uncollected: bigint;
}

/** What a ledger has read of a deployment's events already, and the claims and games that can no longer change it. */
interface LedgerCache {
  nextBlock: number;
  deposited: bigint;
  withdrawn: bigint;
  accounts: Set<string>;
  /** claim id → its challengers (from Challenged). */
  claims: Map<bigint, Set<string>>;
  /** Claims that hold nothing and never will again: final, or settled with every share collected. */
  closed: Set<bigint>;
  endedGames: Set<number>;
}
const ledgerCaches = new WeakMap<object, LedgerCache>();

/**
 * The oracle's ledger now. Events are read incrementally (from the block after the last call), so it must not be
 * called between an evm_snapshot and the evm_revert to it.
 */
export async function ledger(d: Pick<Contracts, "oracle" | "game">): Promise<Ledger> {
  let cache = ledgerCaches.get(d.oracle);
  if (!cache) {
    cache = { nextBlock: 0, deposited: 0n, withdrawn: 0n, accounts: new Set(), claims: new Map(), closed: new Set(), endedGames: new Set() };
    ledgerCaches.set(d.oracle, cache);
  }
  const latest = await provider.getBlockNumber();
  if (latest >= cache.nextBlock) {
    const logs = await provider.getLogs({ address: d.oracle.target as string, fromBlock: cache.nextBlock, toBlock: latest });
    for (const log of logs) {
      const e = d.oracle.interface.parseLog(log);
      if (!e) continue;
      if (e.name === "Deposited") cache.deposited += e.args.amount as bigint;
      if (e.name === "Withdrawn") cache.withdrawn += e.args.amount as bigint;
      if (e.name === "Deposited" || e.name === "Credited" || e.name === "Withdrawn") cache.accounts.add((e.args.account as string).toLowerCase());
      if (e.name === "Claimed") cache.claims.set(e.args.claimId as bigint, new Set());
      if (e.name === "Challenged") cache.claims.get(e.args.claimId as bigint)!.add((e.args.challenger as string).toLowerCase());
    }
    cache.nextBlock = latest + 1;
  }
  const [claimBond, challengeBond, burned, balance, gameCount] = (await Promise.all([
    d.oracle.claimBond(),
    d.oracle.challengeBond(),
    d.oracle.burned(),
    provider.getBalance(d.oracle.target),
    d.game.gameCount(),
  ])) as bigint[];
  let credits = 0n;
  for (const a of cache.accounts) credits += (await d.oracle.credit(a)) as bigint;
  let claimBonds = 0n;
  let uncollected = 0n;
  for (const [claimId, challengers] of cache.claims) {
    if (cache.closed.has(claimId)) continue;
    const c = await d.oracle.getClaim(claimId);
    if (c.status === FINAL) cache.closed.add(claimId);
    else if (c.status === OPEN || c.openGames > 0n) claimBonds += claimBond;
    else {
      // Settled: the shares still to collect are here; the burned part is in burned(), the rest was credited.
      const share = (await d.oracle.rewardShare(c.winners)) as bigint;
      let due = 0n;
      for (const a of challengers) if ((await d.oracle.gameOfChallenger(claimId, a)).rewardDue) due += share;
      if (due === 0n) cache.closed.add(claimId);
      uncollected += due;
    }
  }
  let challengeBonds = 0n;
  for (let g = 0; g < Number(gameCount); g++) {
    if (cache.endedGames.has(g)) continue;
    if ((await d.game.game(g)).active) challengeBonds += challengeBond;
    else cache.endedGames.add(g);
  }
  return { balance, deposited: cache.deposited, withdrawn: cache.withdrawn, credits, claimBonds, challengeBonds, burned, uncollected };
}

/**
 * The bond invariant: the oracle holds Σ Deposited − Σ Withdrawn, and that is exactly Σ credit + the bonds at
 * stake + burned() + the shares not collected yet. Returns the ledger for further checks.
 */
export async function expectBondInvariant(d: Pick<Contracts, "oracle" | "game">): Promise<Ledger> {
  const l = await ledger(d);
  expect(l.balance, "balance = Σ Deposited − Σ Withdrawn").toBe(l.deposited - l.withdrawn);
  expect(l.balance, `balance = credits + at stake + burned + uncollected (${JSON.stringify(l, (_, v) => (typeof v === "bigint" ? v.toString() : v))})`).toBe(
    l.credits + l.claimBonds + l.challengeBonds + l.burned + l.uncollected,
  );
  return l;
}

export { WasmMachine };

/** Awaits a transaction that must revert with the custom error `name` of one of `contracts`' ABIs. */
export async function expectRevert(promise: Promise<unknown>, name: string, ...contracts: ethers.Contract[]): Promise<void> {
  try {
    await promise;
  } catch (error) {
    const data = findRevertData(error);
    const decoded = data ? contracts.map((c) => c.interface.parseError(data)).find((e) => e !== null) : undefined;
    if (decoded?.name === name) return;
    throw new Error(`expected a revert with ${name}, got ${decoded ? decoded.name : String((error as Error).message).slice(0, 200)}`);
  }
  throw new Error(`expected a revert with ${name}, but the call succeeded`);
}

function findRevertData(error: unknown): string | undefined {
  const e = error as { data?: unknown; error?: unknown; info?: { error?: { data?: unknown } } };
  for (const candidate of [e.data, e.info?.error?.data, (e.error as { data?: unknown })?.data]) {
    if (typeof candidate === "string" && candidate.startsWith("0x")) return candidate;
    if (candidate && typeof (candidate as { data?: unknown }).data === "string") return (candidate as { data: string }).data;
  }
  return undefined;
}

// ——— Helpers for the claims, games, random-games and consumer suites ———

/** The trace tree's leaves s0 … sN padded with sN to 2^depth: a fresh copy a test may corrupt. */
export function traceLeaves(trace: Trace): Uint8Array[] {
  return Array.from({ length: 2 ** trace.depth }, (_, k) => trace.stateHash(k));
}

/** Garbage that is no state's hash, distinct per leaf and per `salt`. */
export function garbageLeaf(k: number, salt = 0): Uint8Array {
  return taggedHash(TAG.state, Uint8Array.from([k >> 8, k & 255, salt & 255, 0xba, 0xd0]));
}

/** The honest tree with only leaf k (any of 0 … 2^depth − 1, padding included) replaced by `leaf`. */
export function treeWithLeaf(trace: Trace, k: number, leaf: Uint8Array = garbageLeaf(k)): TraceTree {
  const leaves = traceLeaves(trace);
  leaves[k] = leaf;
  return new TraceTree(leaves);
}

/** A request for `input`; returns its id and the InferenceRequested event's arguments. */
export async function requestInference(d: Deployment, modelId: string, input: Int32Array, callback: string = ethers.ZeroAddress, from: ethers.Signer = d.signers[0]) {
  const receipt = await (await (d.oracle.connect(from) as ethers.Contract).request(modelId, inputLeaves(input), callback)).wait();
  const event = eventsIn(receipt, d.oracle, "InferenceRequested")[0];
  return { requestId: event.args.requestId as bigint, event, receipt };
}

/** Challenges a claim with the challenge bond; returns the game's id and the transaction's gas. */
export async function challengeClaim(d: Deployment, challenger: ethers.Signer, claimId: bigint) {
  const receipt = await (await (d.oracle.connect(challenger) as ethers.Contract).challenge(claimId, { value: CHALLENGE_BOND })).wait();
  return { gameId: eventsIn(receipt, d.oracle, "Challenged")[0].args.gameId as bigint, gasUsed: receipt.gasUsed as bigint, receipt };
}

/** Challenges many claims in one transaction (one bond each); returns the receipt and the games started. */
export async function challengeMany(d: Deployment, challenger: ethers.Signer, claimIds: bigint[]) {
  const receipt = await (await (d.oracle.connect(challenger) as ethers.Contract).challengeMany(claimIds, { value: CHALLENGE_BOND * BigInt(claimIds.length) })).wait();
  return { receipt, started: eventsIn(receipt, d.oracle, "Challenged").map((e) => ({ claimId: e.args.claimId as bigint, gameId: e.args.gameId as bigint })), skipped: eventsIn(receipt, d.oracle, "ChallengeSkipped").map((e) => e.args) };
}

// ——— Moves ———

/** A challenger's rule for the node it disputes: an index into the revealed nodes (any of them, honest or not). */
export type Picker = (p: Position, nodes: string[]) => number;

/** The honest rule on `tree`: the first revealed node that differs from it. */
export const firstDifference = (tree: TraceTree): Picker => (p, nodes) => chooseMove(tree, p, nodes);

/**
 * A liar's rule: a revealed node that `tree` agrees with (chosen by `which` among them), or else the first that
 * differs. Against an honest defender it always descends into a subtree the challenger itself agrees with.
 */
export const intoAgreement = (tree: TraceTree, which: (agreeing: number[]) => number = (a) => a[0]): Picker => (p, nodes) => {
  const agreeing = nodes.map((n, k) => (n.toLowerCase() === toHex(tree.node(p.depth + p.levels, p.index * nodes.length + k)) ? k : -1)).filter((k) => k >= 0);
  return agreeing.length > 0 ? which(agreeing) : chooseMove(tree, p, nodes);
};

/** Reveals the disputed node of game `gameId` from `tree`, sent by `signer`, unless it is revealed already. */
export async function revealIfNeeded(d: Pick<Contracts, "game">, gameId: bigint, signer: ethers.Signer, tree: TraceTree) {
  const p = await position(d, gameId);
  if (p.levels === 0 || p.revealedAt !== 0) return undefined;
  const r = revealMove(tree, p);
  return (await (await (d.game.connect(signer) as ethers.Contract).reveal(toHex(r.node), r.levels, r.nodes.map(toHex))).wait()) as ethers.TransactionReceipt;
}

/**
 * Reveals (unless revealed already) and chooses until the game's disputed node is at depth ≥ `until` (a leaf by
 * default); returns the gas of every move made.
 */
export async function descend(
  d: Pick<Contracts, "game">,
  gameId: bigint,
  defender: { signer: ethers.Signer; tree: TraceTree },
  challenger: { signer: ethers.Signer; pick: Picker },
  until = Infinity,
) {
  const gas: { move: "reveal" | "choose"; gasUsed: bigint }[] = [];
  for (;;) {
    const p = await position(d, gameId);
    if (p.levels === 0 || p.depth >= until) return gas;
    const revealed = await revealIfNeeded(d, gameId, defender.signer, defender.tree);
    if (revealed) gas.push({ move: "reveal", gasUsed: revealed.gasUsed });
    const nodes = (await revealedNodes(d, p.node, p.levels))!;
    const receipt = await (await (d.game.connect(challenger.signer) as ethers.Contract).choose(gameId, nodes, challenger.pick(p, nodes))).wait();
    gas.push({ move: "choose", gasUsed: receipt.gasUsed });
  }
}
