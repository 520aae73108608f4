/**
 * Gas of a whole MNIST dispute on the in-process Hardhat network, each transaction as sent: the model's
 * registration, the request, a claim with a wrong output, the challenge, every bisection move and the one-step
 * proof, both parties' transactions summed. (The moves come from challenger/moves.ts; the claim is built by the
 * protocol test harness, which the dispute daemon's issue will move into challenger/.)
 */
import type { ethers } from "ethers";
import type { CompiledModel } from "../compiler/compile.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { CHALLENGE_BOND, deployProtocol, honestClaim, inputLeaves, lyingClaim, modelStruct, playGame, postClaim } from "../test/protocol/harness.js";

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
  const trace = new WasmMachine(model).trace(input);
  const d = await deployProtocol();
  const gasOf = async (tx: Promise<ethers.ContractTransactionResponse>) => Number((await (await tx).wait())!.gasUsed);
  const register = await gasOf(d.registry.register(modelStruct(model), "file://fixtures/models/mnist-mlp.onnx"));
  const requestTx = await (await d.oracle.request(model.meta.commitment, inputLeaves(input), "0x0000000000000000000000000000000000000000")).wait();
  const requestId = d.oracle.interface.parseLog(requestTx!.logs[0])!.args.requestId as bigint;
  const liar = lyingClaim(trace, trace.steps);
  const { claimId, gasUsed: claimGas } = await postClaim(d, d.signers[1], requestId, liar, model);
  const challengeTx = await (await (d.oracle.connect(d.signers[2]) as ethers.Contract).challenge(claimId, { value: CHALLENGE_BOND })).wait();
  const gameId = challengeTx!.logs.map((l: ethers.Log) => d.oracle.interface.parseLog(l)).find((e: ethers.LogDescription | null) => e?.name === "Challenged")!.args.gameId as bigint;
  const moves = await playGame(d, gameId, { signer: d.signers[1], tree: liar.tree }, { signer: d.signers[2], tree: honestClaim(trace).tree, trace });
  const bisection = moves.filter((m) => m.move !== "prove").map((m) => Number(m.gasUsed));
  const prove = Number(moves.find((m) => m.move === "prove")!.gasUsed);
  const challenge = Number(challengeTx!.gasUsed);
  const claim = Number(claimGas);
  const movesTotal = bisection.reduce((a, b) => a + b, 0);
  return {
    register,
    request: Number(requestTx!.gasUsed),
    claim,
    challenge,
    moves: movesTotal,
    maxMove: Math.max(...bisection),
    movesCount: bisection.length,
    prove,
    dispute: claim + challenge + movesTotal + prove,
  };
}
