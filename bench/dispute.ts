/**
 * Gas of a whole MNIST dispute on Hardhat's in-process network, each transaction as sent: the model's
 * registration, the request, a lying claim, the challenge, every reveal and choice of the k-ary dissection and
 * the one-step proof, both parties' transactions summed. The players are challenger/'s (playGame: one move per
 * transaction, so every move's gas is its own).
 */
import hre from "hardhat";
import { ethers } from "ethers";
import type { CompiledModel } from "../compiler/compile.js";
import type { Trace } from "../interpreter/wasm/machine.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { honestClaim, inputLeaves, lyingClaim, modelFields } from "../challenger/claims.js";
import { type Contracts, deployContracts, eventsIn, playGame, postClaim } from "../challenger/protocol.js";
import type { TraceTree } from "../challenger/trace-tree.js";
import { DEFAULT_PARAMS } from "../challenger/deployments.js";

/** The gas of one dispute's transactions. */
export interface OneDispute {
  lieAtStep: number;
  claim: number;
  challenge: number;
  /** One per round that needed one (a node revealed by an earlier game is not revealed again). */
  reveals: number[];
  chooses: number[];
  prove: number;
  /** claim + challenge + every reveal and choice + prove: what the two parties pay. */
  dispute: number;
}

/** The protocol on the in-process Hardhat network with the given split, the model registered. */
export async function benchDeployment(model: CompiledModel, splitBits: number) {
  const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });
  const [owner, claimant, challenger] = await Promise.all([0, 1, 2].map((k) => provider.getSigner(k)));
  const c = await deployContracts(owner, { claimBond: ethers.parseEther("1"), challengeBond: ethers.parseEther("0.5"), window: 3600, clock: 1800, splitBits });
  const register = Number((await (await c.registry.register(modelFields(model), `bundled:${model.meta.name}`)).wait()).gasUsed);
  return { c, claimant, challenger, register };
}

/**
 * A request for `input`, a claim by `claimant` wrong from `lieAtStep` on, challenged by `challenger`, played to
 * the proof. Returns the request's gas and the dispute's.
 */
export async function disputeOnce(
  d: { c: Contracts; claimant: ethers.Signer; challenger: ethers.Signer },
  model: CompiledModel,
  input: Int32Array,
  honest: { tree: TraceTree; trace: Trace },
  lieAtStep: number,
): Promise<{ request: number; gas: OneDispute }> {
  const { c, claimant, challenger } = d;
  const requestReceipt = await (await c.oracle.request(model.meta.commitment, inputLeaves(input), ethers.ZeroAddress)).wait();
  const requestId = eventsIn(requestReceipt, c.oracle, "InferenceRequested")[0].args.requestId as bigint;
  const liar = lyingClaim(honest.trace, lieAtStep);
  const { claimId, gasUsed: claimGas } = await postClaim(c, claimant, requestId, liar, model);
  const challengeReceipt = await (await (c.oracle.connect(challenger) as ethers.Contract).challenge(claimId, { value: await c.oracle.challengeBond() })).wait();
  const gameId = eventsIn(challengeReceipt, c.oracle, "Challenged")[0].args.gameId as bigint;
  const moves = await playGame(c, gameId, { signer: claimant, tree: liar.tree }, { signer: challenger, tree: honest.tree, trace: honest.trace });
  const of = (kind: string) => moves.filter((m) => m.move === kind).map((m) => Number(m.gasUsed));
  const [reveals, chooses, [prove]] = [of("reveal"), of("choose"), of("prove")];
  const claim = Number(claimGas);
  const challenge = Number(challengeReceipt.gasUsed);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { request: Number(requestReceipt.gasUsed), gas: { lieAtStep, claim, challenge, reveals, chooses, prove, dispute: claim + challenge + sum(reveals) + sum(chooses) + prove } };
}

export interface DisputeGas {
  splitBits: number;
  register: number;
  request: number;
  claim: number;
  challenge: number;
  /** Rounds of the dissection: ⌈traceDepth / m⌉ (one reveal and one choice each). */
  rounds: number;
  /** The reveals and choices summed, their number, the most expensive of them, and of each kind. */
  moves: number;
  movesCount: number;
  maxMove: number;
  maxReveal: number;
  maxChoose: number;
  prove: number;
  /** claim + challenge + moves + prove: what the two parties of the dispute pay. */
  dispute: number;
}

/**
 * One dispute at the default split, on a fresh deployment (its first settlement included), over a claim wrong from
 * `lieAtStep` on (default: only the last state, a wrong output).
 */
export async function benchDispute(model: CompiledModel, input: Int32Array, lieAtStep?: number): Promise<DisputeGas> {
  const d = await benchDeployment(model, DEFAULT_PARAMS.splitBits);
  const trace = new WasmMachine(model).trace(input);
  const { request, gas } = await disputeOnce(d, model, input, { tree: honestClaim(trace).tree, trace }, lieAtStep ?? trace.steps);
  const moves = [...gas.reveals, ...gas.chooses];
  return {
    splitBits: DEFAULT_PARAMS.splitBits,
    register: d.register,
    request,
    claim: gas.claim,
    challenge: gas.challenge,
    rounds: gas.chooses.length,
    moves: moves.reduce((a, b) => a + b, 0),
    movesCount: moves.length,
    maxMove: Math.max(...moves),
    maxReveal: Math.max(...gas.reveals),
    maxChoose: Math.max(...gas.chooses),
    prove: gas.prove,
    dispute: gas.dispute,
  };
}
