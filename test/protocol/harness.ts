/**
 * The dispute protocol on the Hardhat network, in-process: deploys the registry, the verifier and the oracle
 * (which creates the game), registers the MNIST model, and plays claims and games with the moves of
 * challenger/moves.ts, honest or lying. Amounts are in wei; times in seconds.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import { loadArtifact } from "../../evm/artifacts.js";
import { witnessArgs } from "../../evm/witness-args.js";
import type { CompiledModel } from "../../compiler/compile.js";
import { WasmMachine, type Trace } from "../../interpreter/wasm/machine.js";
import { TraceTree } from "../../challenger/trace-tree.js";
import { chooseMove, proveMove, revealMove, type Position } from "../../challenger/moves.js";
import { toHex, hashNode, taggedHash, TAG } from "../../vm/hash.js";
import { encodeLeaf, hashLeaf, LEAF_WORDS } from "../../vm/memory.js";
import { rootFromProof } from "../../vm/merkle.js";
import { encodeState, decodeState } from "../../vm/state.js";

export const CLAIM_BOND = ethers.parseEther("1");
export const CHALLENGE_BOND = ethers.parseEther("0.5");
export const WINDOW = 3600;
export const CLOCK = 1800;

// cacheTimeout -1: ethers otherwise answers an identical request made within 250 ms from a cache, so a call
// repeated after time travel would see the chain as it was.
export const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });

/** Moves the chain's clock forward and mines a block (straight to Hardhat's provider: ethers caches blocks). */
export async function advance(seconds: number): Promise<void> {
  await hre.network.provider.request({ method: "evm_increaseTime", params: [seconds] });
  await hre.network.provider.request({ method: "evm_mine", params: [] });
}

async function deploy(name: string, signer: ethers.Signer, ...args: unknown[]): Promise<ethers.Contract> {
  const a = loadArtifact(name);
  const contract = await new ethers.ContractFactory(a.abi, a.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract as unknown as ethers.Contract;
}

export interface Deployment {
  registry: ethers.Contract;
  verifier: ethers.Contract;
  oracle: ethers.Contract;
  game: ethers.Contract;
  signers: ethers.Signer[];
}

export async function deployProtocol(options: { window?: number; clock?: number } = {}): Promise<Deployment> {
  const signers = await Promise.all(Array.from({ length: 10 }, (_, k) => provider.getSigner(k)));
  const registry = await deploy("ModelRegistry", signers[0]);
  const verifier = await deploy("OneStepVerifier", signers[0]);
  const oracle = await deploy("InferenceOracle", signers[0], await registry.getAddress(), await verifier.getAddress(), CLAIM_BOND, CHALLENGE_BOND, options.window ?? WINDOW, options.clock ?? CLOCK);
  const game = new ethers.Contract(await oracle.game(), loadArtifact("BisectionGame").abi, signers[0]);
  return { registry, verifier, oracle, game, signers };
}

export function modelStruct(model: CompiledModel) {
  const c = model.commitment;
  return {
    programRoot: toHex(c.programRoot),
    modelRoot: toHex(c.modelRoot),
    memoryDepth: c.memoryDepth,
    flags: c.flags,
    inputLength: c.inputLength,
    outputAddress: c.outputAddress,
    outputLength: c.outputLength,
    steps: c.steps,
    owner: ethers.ZeroAddress,
  };
}

export function inputLeaves(input: Int32Array): string[] {
  const leaves: string[] = [];
  for (let off = 0; off < input.length; off += LEAF_WORDS) leaves.push(toHex(encodeLeaf(input, off)));
  return leaves;
}

/** What a claimant posts, from its (honest or lying) view of the run. */
export interface ClaimView {
  tree: TraceTree;
  finalState: Uint8Array;
  outputLeaves: string[];
  outputProofs: string[][];
}

export function honestClaim(trace: Trace): ClaimView {
  const tree = TraceTree.fromTrace(trace);
  const finalState = trace.witness(trace.steps).preState;
  const chunks = trace.outputChunks();
  return {
    tree,
    finalState,
    outputLeaves: chunks.flatMap((c) => [0, 1, 2, 3].map((l) => toHex(encodeLeaf(c.words, 8 * l)))),
    outputProofs: chunks.map((c) => c.proof.map(toHex)),
  };
}

/** A claim whose states from step k on are wrong (k = N: only the output is). */
export function lyingClaim(trace: Trace, k: number): ClaimView {
  const honest = honestClaim(trace);
  const N = trace.steps;
  const leaves = Array.from({ length: N + 1 }, (_, s) => trace.stateHash(s));
  // The lie: the output's first word changed in sN's memory (a consistent fake root), and states k … N−1 garbage.
  const chunk = trace.outputChunks()[0];
  const words = chunk.words.slice();
  const at = trace.steps > 0 ? (trace as unknown as { machine: { model: CompiledModel } }).machine.model.program.outputAddress - chunk.address : 0;
  words[at] += 1 << 16;
  const chunkRoot = hashNode(hashNode(hashLeaf(words, 0), hashLeaf(words, 8)), hashNode(hashLeaf(words, 16), hashLeaf(words, 24)));
  const fakeRoot = rootFromProof(chunkRoot, chunk.address / 32, chunk.proof);
  const { programRoot, state } = decodeState(honest.finalState);
  const finalState = encodeState(programRoot, fakeRoot, state);
  leaves[N] = taggedHash(TAG.state, finalState);
  for (let s = k; s < N; s++) leaves[s] = taggedHash(TAG.state, Uint8Array.from([s & 255, 0xde, 0xad]));
  return {
    tree: new TraceTree(leaves),
    finalState,
    outputLeaves: [0, 1, 2, 3].map((l) => toHex(encodeLeaf(words, 8 * l))),
    outputProofs: [chunk.proof.map(toHex)],
  };
}

/** The arguments that prove a claim's final state and output: for claim() and again for finalize(). */
export function finalArgs(view: ClaimView, steps: number) {
  return [toHex(view.finalState), view.tree.path(0, steps, view.tree.depth).map(toHex), view.outputLeaves, view.outputProofs] as const;
}

export async function postClaim(d: Deployment, claimant: ethers.Signer, requestId: bigint, view: ClaimView, model: CompiledModel) {
  const oracle = d.oracle.connect(claimant) as ethers.Contract;
  const tx = await oracle.claim(requestId, modelStruct(model), toHex(view.tree.root), ...finalArgs(view, model.meta.steps), { value: CLAIM_BOND });
  const receipt = await tx.wait();
  const event = receipt.logs.map((l: ethers.Log) => d.oracle.interface.parseLog(l)).find((e: ethers.LogDescription | null) => e?.name === "Claimed");
  return { claimId: event.args.claimId as bigint, gasUsed: receipt.gasUsed as bigint };
}

/** What the oracle must hold: every bond deposited, less every withdrawal (from its events). */
export async function expectedBalance(d: Deployment): Promise<bigint> {
  const deposited = await d.oracle.queryFilter(d.oracle.filters.Deposited());
  const withdrawn = await d.oracle.queryFilter(d.oracle.filters.Withdrawn());
  const sum = (events: (ethers.EventLog | ethers.Log)[]) => events.reduce((total, e) => total + ((e as ethers.EventLog).args.amount as bigint), 0n);
  return sum(deposited) - sum(withdrawn);
}

export async function position(d: Deployment, gameId: bigint): Promise<Position & { turn: number; active: boolean; node: string }> {
  const g = await d.game.game(gameId);
  return { depth: Number(g.depth), index: Number(g.index), traceDepth: Number(g.traceDepth), agreedHeight: Number(g.agreedHeight), turn: Number(g.turn), active: g.active, node: g.node };
}

const EMPTY_WITNESS = { preState: "0x", instruction: ethers.ZeroHash, instructionProof: [], reads: [] };

/**
 * Plays a game to its end with each side following its own tree; the challenger proves from the honest trace.
 * Returns the gas of every move.
 */
export async function playGame(d: Deployment, gameId: bigint, defender: { signer: ethers.Signer; tree: TraceTree }, challenger: { signer: ethers.Signer; tree: TraceTree; trace: Trace }) {
  const gas: { move: string; gasUsed: bigint }[] = [];
  for (;;) {
    const p = await position(d, gameId);
    if (!p.active) break;
    if (p.depth === p.traceDepth) {
      const proof = proveMove(challenger.tree, challenger.trace, p);
      const witness = proof.witness ? witnessArgs(proof.witness) : EMPTY_WITNESS;
      const tx = await (d.game.connect(challenger.signer) as ethers.Contract).prove(gameId, toHex(proof.preStateHash), proof.preStateProof.map(toHex), witness);
      gas.push({ move: "prove", gasUsed: (await tx.wait()).gasUsed });
      break;
    }
    const { left, right } = revealMove(defender.tree, p);
    let tx = await (d.game.connect(defender.signer) as ethers.Contract).reveal(gameId, toHex(left), toHex(right));
    gas.push({ move: "reveal", gasUsed: (await tx.wait()).gasUsed });
    const pickRight = chooseMove(challenger.tree, p, left);
    tx = await (d.game.connect(challenger.signer) as ethers.Contract).choose(gameId, toHex(left), toHex(right), pickRight);
    gas.push({ move: "choose", gasUsed: (await tx.wait()).gasUsed });
  }
  return gas;
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

/** The events named `name` that `contract` emitted in a receipt. */
export function eventsIn(receipt: ethers.TransactionReceipt, contract: ethers.Contract, name: string): ethers.LogDescription[] {
  const address = (contract.target as string).toLowerCase();
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === address)
    .map((l) => contract.interface.parseLog(l))
    .filter((e): e is ethers.LogDescription => e !== null && e.name === name);
}

/** The arguments of prove() at the game's leaf, from `tree` (the pre-state's path) and the honest `trace` (the witness). */
export function proveArgs(tree: TraceTree, trace: Trace, p: Position) {
  const proof = proveMove(tree, trace, p);
  return [toHex(proof.preStateHash), proof.preStateProof.map(toHex), proof.witness ? witnessArgs(proof.witness) : EMPTY_WITNESS] as const;
}
