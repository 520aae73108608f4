/**
 * The protocol contracts seen from off-chain, over any ethers signer and provider: deploy them, post a claim,
 * read a game's position, and play a game to its end with the moves of moves.ts.
 */
import { ethers } from "ethers";
import type { CompiledModel } from "../compiler/compile.js";
import { loadArtifact } from "../evm/artifacts.js";
import { type WitnessArgs, witnessArgs } from "../evm/witness-args.js";
import type { Trace } from "../interpreter/wasm/machine.js";
import { toHex } from "../vm/hash.js";
import { type ClaimView, finalArgs, modelFields } from "./claims.js";
import { LogReader, eventFilter } from "./log-reader.js";
import { type Position, chooseMove, levelsAt, proveMove, revealMove } from "./moves.js";
import type { TraceTree } from "./trace-tree.js";

export interface ProtocolParams {
  claimBond: bigint;
  challengeBond: bigint;
  /** Seconds a claim stays open to challenges. */
  window: number;
  /** Seconds each party of a game has for all its moves. */
  clock: number;
  /** m: each round of a game reveals 2^m nodes of the trace tree (see BisectionGame.splitBits). */
  splitBits: number;
}

export interface Contracts {
  registry: ethers.Contract;
  verifier: ethers.Contract;
  oracle: ethers.Contract;
  game: ethers.Contract;
}

async function deploy(name: string, signer: ethers.Signer, ...args: unknown[]): Promise<ethers.Contract> {
  const a = loadArtifact(name);
  const contract = await new ethers.ContractFactory(a.abi, a.bytecode, signer).deploy(...args);
  await contract.waitForDeployment();
  return contract as unknown as ethers.Contract;
}

/** Deploys the registry, the verifier and the oracle (which creates the game contract). */
export async function deployContracts(signer: ethers.Signer, p: ProtocolParams): Promise<Contracts> {
  const registry = await deploy("ModelRegistry", signer);
  const verifier = await deploy("OneStepVerifier", signer);
  const oracle = await deploy("InferenceOracle", signer, await registry.getAddress(), await verifier.getAddress(), p.claimBond, p.challengeBond, p.window, p.clock, p.splitBits);
  const game = new ethers.Contract(await oracle.game(), loadArtifact("BisectionGame").abi, signer);
  return { registry, verifier, oracle, game };
}

/** The decoded events named `name` that `contract` emitted in a receipt. */
export function eventsIn(receipt: ethers.TransactionReceipt, contract: ethers.Contract, name: string): ethers.LogDescription[] {
  const address = (contract.target as string).toLowerCase();
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === address)
    .map((l) => contract.interface.parseLog(l))
    .filter((e): e is ethers.LogDescription => e !== null && e.name === name);
}

/** Posts a claim with the oracle's claim bond; returns its id and the transaction's gas. */
export async function postClaim(c: Contracts, claimant: ethers.Signer, requestId: bigint, view: ClaimView, model: CompiledModel) {
  const oracle = c.oracle.connect(claimant) as ethers.Contract;
  const tx = await oracle.claim(requestId, modelFields(model), toHex(view.tree.root), ...finalArgs(view, model.meta.steps), { value: await c.oracle.claimBond() });
  const receipt = await tx.wait();
  return { claimId: eventsIn(receipt, c.oracle, "Claimed")[0].args.claimId as bigint, gasUsed: receipt.gasUsed as bigint };
}

/** BisectionGame.game() with the reveal of its disputed node: the position, both clocks, and whose move it is. */
export interface GameView extends Position {
  active: boolean;
  claimId: bigint;
  challenger: string;
  challengerWon: boolean;
  node: string;
  lastMove: number;
  defenderClock: number;
  challengerClock: number;
  /** When the disputed node's descendants were revealed (0: not yet), and the block of that Revealed event. */
  revealedAt: number;
  revealBlock: number;
}

/**
 * BisectionGame.splitBits() is immutable: read once per contract object (not per address: a restarted local chain
 * can hold another deployment, with another m, at the same address).
 */
const splitBitsOf = new WeakMap<ethers.Contract, Promise<number>>();
export function splitBits(c: Pick<Contracts, "game">): Promise<number> {
  let m = splitBitsOf.get(c.game);
  if (!m) {
    m = c.game.splitBits().then(Number);
    m.catch(() => splitBitsOf.delete(c.game)); // a failed read (an RPC outage) is not remembered
    splitBitsOf.set(c.game, m);
  }
  return m;
}

/** The game's position and clocks, and the reveal of its disputed node (two calls). */
export async function position(c: Pick<Contracts, "game">, gameId: bigint): Promise<GameView> {
  const g = await c.game.game(gameId);
  const traceDepth = Number(g.traceDepth);
  const depth = Number(g.depth);
  const levels = depth === traceDepth ? 0 : levelsAt(depth, traceDepth, await splitBits(c));
  const [revealedAt, revealBlock] = levels === 0 ? [0n, 0n] : ((await c.game.revealed(g.node, levels)) as [bigint, bigint]);
  return {
    depth,
    index: Number(g.index),
    traceDepth,
    agreedHeight: Number(g.agreedHeight),
    levels,
    active: g.active,
    claimId: g.claimId as bigint,
    challenger: (g.challenger as string).toLowerCase(),
    challengerWon: g.challengerWon,
    node: (g.node as string).toLowerCase(),
    lastMove: Number(g.lastMove),
    defenderClock: Number(g.defenderClock),
    challengerClock: Number(g.challengerClock),
    revealedAt: Number(revealedAt),
    revealBlock: Number(revealBlock),
  };
}

/**
 * Whose move it is at `now`, the seconds its clock has used on this move and the seconds it had before it: the
 * twin of BisectionGame.turn(). A defender whose reveal came after its clock ran out is still "to move" (it lost).
 */
export function turnOf(g: GameView, now: number): { defenderToMove: boolean; used: number; left: number } {
  if (g.levels === 0) return { defenderToMove: false, used: now - g.lastMove, left: g.challengerClock };
  if (g.revealedAt === 0) return { defenderToMove: true, used: now - g.lastMove, left: g.defenderClock };
  if (g.revealedAt > g.lastMove && g.revealedAt - g.lastMove > g.defenderClock) return { defenderToMove: true, used: g.revealedAt - g.lastMove, left: g.defenderClock };
  return { defenderToMove: false, used: now - Math.max(g.revealedAt, g.lastMove), left: g.challengerClock };
}

/** Seconds left on a party's clock at `now` (only the mover's clock runs; negative once it ran out). */
export function clockLeft(g: GameView, party: "defender" | "challenger", now: number): number {
  const t = turnOf(g, now);
  const defenderUsedBeforeReveal = g.revealedAt > g.lastMove ? g.revealedAt - g.lastMove : 0;
  if (party === "defender") return g.defenderClock - (!g.active ? 0 : t.defenderToMove ? t.used : Math.min(defenderUsedBeforeReveal, g.defenderClock));
  return g.challengerClock - (g.active && !t.defenderToMove ? t.used : 0);
}

/**
 * The nodes revealed under `node` (`levels` below), read from the Revealed event in the block the contract names,
 * through the chain's log reader when given one (`logs`), else a reader over the game contract's provider.
 */
export async function revealedNodes(c: Pick<Contracts, "game"> & { logs?: LogReader }, node: string, levels: number): Promise<string[] | undefined> {
  const [time, block] = (await c.game.revealed(node, levels)) as [bigint, bigint];
  if (time === 0n) return undefined;
  const reader = c.logs ?? new LogReader(c.game.runner!.provider!);
  const logs = await reader.all(await eventFilter(c.game, c.game.filters.Revealed(node)), Number(block), Number(block));
  for (const log of logs) {
    const e = c.game.interface.parseLog(log);
    if (e && Number(e.args.levels) === levels) return (e.args.nodes as string[]).map((n) => n.toLowerCase());
  }
  return undefined;
}

/** prove()'s witness argument when there is none (k = 0: s0 is compared on-chain). */
export const EMPTY_WITNESS: WitnessArgs = { preState: "0x", instruction: ethers.ZeroHash, instructionProof: [], reads: [] };

/** The arguments of prove() at the game's leaf, from the honest trace. */
export function proveArgs(tree: TraceTree, trace: Trace, p: Position): [string, string[], WitnessArgs] {
  const proof = proveMove(tree, trace, p);
  return [toHex(proof.preStateHash), proof.preStateProof.map(toHex), proof.witness ? witnessArgs(proof.witness) : EMPTY_WITNESS];
}

/**
 * Plays a game to its end, each side following its own tree (the defender reveals only what is not revealed
 * yet); the challenger proves from the honest trace. Returns the gas of every move.
 */
export async function playGame(c: Contracts, gameId: bigint, defender: { signer: ethers.Signer; tree: TraceTree }, challenger: { signer: ethers.Signer; tree: TraceTree; trace: Trace }) {
  const gas: { move: string; gasUsed: bigint }[] = [];
  const game = (signer: ethers.Signer) => c.game.connect(signer) as ethers.Contract;
  for (;;) {
    const p = await position(c, gameId);
    if (!p.active) break;
    if (p.levels === 0) {
      const tx = await game(challenger.signer).prove(gameId, ...proveArgs(challenger.tree, challenger.trace, p));
      gas.push({ move: "prove", gasUsed: (await tx.wait()).gasUsed });
      break;
    }
    if (p.revealedAt === 0) {
      const r = revealMove(defender.tree, p);
      const tx = await game(defender.signer).reveal(toHex(r.node), r.levels, r.nodes.map(toHex));
      gas.push({ move: "reveal", gasUsed: (await tx.wait()).gasUsed });
    }
    const nodes = (await revealedNodes(c, p.node, p.levels))!;
    const tx = await game(challenger.signer).choose(gameId, nodes, chooseMove(challenger.tree, p, nodes));
    gas.push({ move: "choose", gasUsed: (await tx.wait()).gasUsed });
  }
  return gas;
}
