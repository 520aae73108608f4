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
import { type Position, chooseMove, proveMove, revealMove } from "./moves.js";
import type { TraceTree } from "./trace-tree.js";

export interface ProtocolParams {
  claimBond: bigint;
  challengeBond: bigint;
  /** Seconds a claim stays open to challenges. */
  window: number;
  /** Seconds each party of a game has for all its moves. */
  clock: number;
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
  const oracle = await deploy("InferenceOracle", signer, await registry.getAddress(), await verifier.getAddress(), p.claimBond, p.challengeBond, p.window, p.clock);
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

/** BisectionGame.game(): the position, whose move it is (turn 0 = defender), and both chess clocks. */
export interface GameView extends Position {
  turn: number;
  active: boolean;
  node: string;
  lastMove: number;
  defenderClock: number;
  challengerClock: number;
}

export const DEFENDER_TURN = 0;

export async function position(c: Contracts, gameId: bigint): Promise<GameView> {
  const g = await c.game.game(gameId);
  return {
    depth: Number(g.depth),
    index: Number(g.index),
    traceDepth: Number(g.traceDepth),
    agreedHeight: Number(g.agreedHeight),
    turn: Number(g.turn),
    active: g.active,
    node: g.node,
    lastMove: Number(g.lastMove),
    defenderClock: Number(g.defenderClock),
    challengerClock: Number(g.challengerClock),
  };
}

/** Seconds left on a party's clock at `now` (only the mover's clock runs; negative once it ran out). */
export function clockLeft(g: GameView, party: "defender" | "challenger", now: number): number {
  const moving = (g.turn === DEFENDER_TURN) === (party === "defender");
  return (party === "defender" ? g.defenderClock : g.challengerClock) - (g.active && moving ? now - g.lastMove : 0);
}

/** prove()'s witness argument when there is none (k = 0: s0 is compared on-chain). */
export const EMPTY_WITNESS: WitnessArgs = { preState: "0x", instruction: ethers.ZeroHash, instructionProof: [], reads: [] };

/**
 * Plays a game to its end, each side following its own tree; the challenger proves from the honest trace.
 * Returns the gas of every move.
 */
export async function playGame(c: Contracts, gameId: bigint, defender: { signer: ethers.Signer; tree: TraceTree }, challenger: { signer: ethers.Signer; tree: TraceTree; trace: Trace }) {
  const gas: { move: string; gasUsed: bigint }[] = [];
  for (;;) {
    const p = await position(c, gameId);
    if (!p.active) break;
    if (p.depth === p.traceDepth) {
      const proof = proveMove(challenger.tree, challenger.trace, p);
      const witness = proof.witness ? witnessArgs(proof.witness) : EMPTY_WITNESS;
      const tx = await (c.game.connect(challenger.signer) as ethers.Contract).prove(gameId, toHex(proof.preStateHash), proof.preStateProof.map(toHex), witness);
      gas.push({ move: "prove", gasUsed: (await tx.wait()).gasUsed });
      break;
    }
    const { left, right } = revealMove(defender.tree, p);
    let tx = await (c.game.connect(defender.signer) as ethers.Contract).reveal(gameId, toHex(left), toHex(right));
    gas.push({ move: "reveal", gasUsed: (await tx.wait()).gasUsed });
    tx = await (c.game.connect(challenger.signer) as ethers.Contract).choose(gameId, toHex(left), toHex(right), chooseMove(challenger.tree, p, left));
    gas.push({ move: "choose", gasUsed: (await tx.wait()).gasUsed });
  }
  return gas;
}
