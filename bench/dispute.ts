/**
 * Gas of a whole MNIST dispute on Hardhat's in-process network, each transaction as sent: the model's
 * registration, the request, a claim with a wrong output, the challenge, every bisection move and the one-step
 * proof, both parties' transactions summed. The players are challenger/'s.
 */
import hre from "hardhat";
import { ethers } from "ethers";
import type { CompiledModel } from "../compiler/compile.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { honestClaim, inputLeaves, lyingClaim, modelFields } from "../challenger/claims.js";
import { deployContracts, eventsIn, playGame, postClaim } from "../challenger/protocol.js";
import { DEFAULT_PARAMS } from "../challenger/deployments.js";

export interface DisputeGas {
  register: number;
  request: number;
  claim: number;
  challenge: number;
  moves: number;
  maxMove: number;
  movesCount: number;
  prove: number;
  /** claim + challenge + moves + prove: what the two parties of the dispute pay. */
  dispute: number;
}

export async function benchDispute(model: CompiledModel, input: Int32Array): Promise<DisputeGas> {
  const provider = new ethers.BrowserProvider(hre.network.provider as unknown as ethers.Eip1193Provider, undefined, { cacheTimeout: -1 });
  const [owner, claimant, challenger] = await Promise.all([0, 1, 2].map((k) => provider.getSigner(k)));
  const c = await deployContracts(owner, { claimBond: ethers.parseEther("1"), challengeBond: ethers.parseEther("0.5"), window: 3600, clock: 1800, splitBits: DEFAULT_PARAMS.splitBits });
  const trace = new WasmMachine(model).trace(input);
  const gasOf = (receipt: ethers.TransactionReceipt | null) => Number(receipt!.gasUsed);

  const register = gasOf(await (await c.registry.register(modelFields(model), "file://fixtures/models/mnist-mlp.onnx")).wait());
  const requestReceipt = await (await c.oracle.request(model.meta.commitment, inputLeaves(input), ethers.ZeroAddress)).wait();
  const requestId = eventsIn(requestReceipt, c.oracle, "InferenceRequested")[0].args.requestId as bigint;
  const liar = lyingClaim(trace, trace.steps);
  const { claimId, gasUsed: claimGas } = await postClaim(c, claimant, requestId, liar, model);
  const challengeReceipt = await (await (c.oracle.connect(challenger) as ethers.Contract).challenge(claimId, { value: await c.oracle.challengeBond() })).wait();
  const gameId = eventsIn(challengeReceipt, c.oracle, "Challenged")[0].args.gameId as bigint;
  const moves = await playGame(c, gameId, { signer: claimant, tree: liar.tree }, { signer: challenger, tree: honestClaim(trace).tree, trace });

  const bisection = moves.filter((m) => m.move !== "prove").map((m) => Number(m.gasUsed));
  const prove = Number(moves.find((m) => m.move === "prove")!.gasUsed);
  const claim = Number(claimGas);
  const challenge = gasOf(challengeReceipt);
  const total = bisection.reduce((a, b) => a + b, 0);
  return {
    register,
    request: gasOf(requestReceipt),
    claim,
    challenge,
    moves: total,
    maxMove: Math.max(...bisection),
    movesCount: bisection.length,
    prove,
    dispute: claim + challenge + total + prove,
  };
}
