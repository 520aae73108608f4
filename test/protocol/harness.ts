/**
 * The dispute protocol on the Hardhat network, in-process: deploys the registry, the verifier and the oracle
 * (which creates the game), registers the MNIST model, and plays claims and games with the moves of
 * challenger/moves.ts, honest or lying. Amounts are in wei; times in seconds.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import { WasmMachine, type Trace } from "../../interpreter/wasm/machine.js";
import { TraceTree } from "../../challenger/trace-tree.js";
import { type ClaimView, finalArgs, honestClaim, inputLeaves, lyingClaim, modelFields } from "../../challenger/claims.js";
import { type Contracts, EMPTY_WITNESS, deployContracts, eventsIn, playGame, position, postClaim, proveArgs } from "../../challenger/protocol.js";
import { DEFAULT_PARAMS } from "../../challenger/deployments.js";
import { taggedHash, TAG } from "../../vm/hash.js";

export { type ClaimView, finalArgs, honestClaim, inputLeaves, lyingClaim, eventsIn, playGame, position, postClaim, proveArgs, EMPTY_WITNESS };

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

export interface Deployment extends Contracts {
  signers: ethers.Signer[];
}

/** The protocol on the in-process Hardhat network, with this harness's bonds and times unless overridden. */
export async function deployProtocol(options: { window?: number; clock?: number; splitBits?: number } = {}): Promise<Deployment> {
  const signers = await Promise.all(Array.from({ length: 10 }, (_, k) => provider.getSigner(k)));
  const contracts = await deployContracts(signers[0], { claimBond: CLAIM_BOND, challengeBond: CHALLENGE_BOND, window: options.window ?? WINDOW, clock: options.clock ?? CLOCK, splitBits: options.splitBits ?? SPLIT_BITS });
  return { ...contracts, signers };
}

/** The model's commitment fields, as the contracts take them. */
export const modelStruct = modelFields;

/** What the oracle must hold: every bond deposited, less every withdrawal (from its events). */
export async function expectedBalance(d: Deployment): Promise<bigint> {
  const deposited = await d.oracle.queryFilter(d.oracle.filters.Deposited());
  const withdrawn = await d.oracle.queryFilter(d.oracle.filters.Withdrawn());
  const sum = (events: (ethers.EventLog | ethers.Log)[]) => events.reduce((total, e) => total + ((e as ethers.EventLog).args.amount as bigint), 0n);
  return sum(deposited) - sum(withdrawn);
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
