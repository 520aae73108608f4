/**
 * `npm run bench [-- --json] [-- --quick] [-- --flood | --no-flood]`: the benchmarks (never timed tests). Prints a
 * report, or with --json one JSON object whose fields the README documents. --quick skips the scale sweep and
 * the flood scenarios (the slowest parts) and runs the dispute wall time once; --flood runs the flood scenarios
 * even with --quick, --no-flood skips them in a full run.
 *   keccak       @noble/hashes against the WASM kernel's keccak256
 *   inference    one MNIST inference: TS reference, WASM kernel, float64 forward pass
 *   trace        a traced MNIST run with its trace root, a step witness, peak RSS
 *   onnxruntime  onnxruntime-node's session.run on the same MNIST file (one intra-op thread), and mlvm's WASM,
 *                TypeScript and traced runs over it (bench/onnxruntime.ts; JSON field onnxruntime: version,
 *                intraOpNumThreads, sessionRunUs, wasmOverOrt, referenceOverOrt, tracedOverOrt)
 *   lenet5       the second bundled model, LeNet-5, as the MLP above: plain and traced runs, onnxruntime-node on
 *                the same file and the ratios, trace depth, and a dispute's gas with the lie inside a convolution
 *                (bench/lenet.ts; JSON field lenet5)
 *   merkle       the trace tree built by merkletreejs and by vm/merkle.ts
 *   gas          the one-step verifier's gas per step kind, and a whole inference in the EVM
 *   dispute      a whole MNIST dispute on the Hardhat network at the default split m: claim, challenge, every
 *                reveal and choice, the proof
 *   split        the same dispute for m = 1 … 6, lying from steps 1, 1750 and 3503: rounds and gas per move kind
 *   wall         the same dispute's wall time on a local Hardhat node, played by the daemons (mlvm demo)
 *   state        the daemon's state file after 10,000 spam requests: its size and the time of a save (state-spam.ts)
 *   catch-up     a daemon started 10,000 blocks (5 claims) behind the head, through a 1,000-block eth_getLogs cap
 *                and uncapped: the time from its start to its verdict on the last claim (catch-up.ts)
 *   flood        localchain/flood.ts's scenarios: 64 lies in one block, 64 challenges of an honest claim (one key,
 *                64 keys), a liar with an accomplice; each against one real honest daemon
 *   scale        random MLPs of ~10k to ~4M parameters, each in its own process
 *
 * JSON fields added with protocol v2 (k-ary dissection), besides those the README lists:
 *   dispute.splitBits              m of the deployment measured (DEFAULT_PARAMS.splitBits)
 *   dispute.rounds                 rounds of the dissection, ⌈traceDepth / m⌉ (one reveal and one choice each)
 *   dispute.maxReveal, .maxChoose  the most expensive reveal and choice (dispute.maxMove is the larger of the two;
 *                                  dispute.moves and .movesCount count reveals and choices together)
 *   split.lieSteps                 the lying steps of each m's disputes ([1, 1750, 3503])
 *   split.points[]                 one per m: splitBits, rounds, maxReveal, maxChoose, maxProve, maxClaim,
 *                                  maxChallenge (each the most expensive over the lying steps), maxDispute and
 *                                  minDispute (claim + challenge + every move + the proof), firstDispute (the
 *                                  uncounted warm-up dispute on the fresh deployment: its first settlement),
 *                                  disputes[] (per lie: lieAtStep, claim, challenge, reveals[], chooses[], prove,
 *                                  dispute)
 *   split.cheapest                 the m with the lowest maxDispute
 *   split.defaultSplitBits         DEFAULT_PARAMS.splitBits, for comparison with split.cheapest
 *   disputeWall.splitBits          m of the demo's deployment (disputeWall.runs[].rounds: the demo's rounds)
 *   state                          requests, kept (on the held model), bytes (of the state file), saveMedianMs,
 *                                  saveMaxMs: the daemon's state after 10,000 spam requests
 *   catchUp                        blocks, cap, claims, and capped / uncapped: {catchUpMs, startupMs, getLogs,
 *                                  refused (null uncapped), chunks (the chunk sizes its refusals announced)}
 *   flood                          null when skipped (--quick, --no-flood); else scenarios[], one per scenario:
 *                                  scenario (its name), games, blocksToResolve, honestMovesPerBlock {max, mean,
 *                                  blocks, moves}, distinctReveals, leastClockLeft and clock (seconds), wallMs,
 *                                  totalWallMs (flood.ts's FloodFigures), and facts: outcomes of the scenario
 *                                  (lies: claims, claimBlocks, voided, voidedByHonest, challengeTxs,
 *                                  mostChallengesInOneTx; challenges: keys, attempts, games, skipped,
 *                                  defenderWon, finalized, claimantGainWei; accomplice: lieAt,
 *                                  voidedByAccomplice, winners, shareWei, burnedWei, honestCollected,
 *                                  liarLossWei, claimBondWei)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileGraph } from "../compiler/compile.js";
import { importOnnx } from "../compiler/onnx.js";
import { loadMnist } from "../datasets/mnist.js";
import { encodeInput } from "../interpreter/run.js";
import { WasmMachine } from "../interpreter/wasm/machine.js";
import { DEFAULT_PARAMS } from "../challenger/deployments.js";
import { bigintsAsStrings } from "../challenger/log.js";
import { benchDispute } from "./dispute.js";
import { benchCatchUp, catchUpLine } from "./catch-up.js";
import { benchDisputeWall } from "./dispute-wall.js";
import { type FloodBench, benchFlood } from "./flood.js";
import { benchGas } from "./gas.js";
import { benchInference, benchTrace } from "./inference.js";
import { benchKeccak } from "./keccak.js";
import { benchLenet } from "./lenet.js";
import { benchOnnxRuntime } from "./onnxruntime.js";
import { benchMerkle } from "./merkle.js";
import { benchSplitSweep } from "./split-sweep.js";
import { SCALE_SHAPES, benchScale, measureScalePoint } from "./scale.js";
import { removeSpam, spamLine, spamState } from "./state-spam.js";
import { formatUs } from "./timing.js";

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export async function main(argv: string[]): Promise<void> {
  const point = argv.indexOf("--scale-point");
  if (point >= 0) {
    console.log(JSON.stringify(measureScalePoint(SCALE_SHAPES[Number(argv[point + 1])])));
    return;
  }
  const json = argv.includes("--json");
  const quick = argv.includes("--quick");
  const log = json ? () => {} : (line: string) => console.log(line);

  const graph = importOnnx(readFileSync(root("fixtures/models/mnist-mlp.onnx")), "mnist-mlp");
  const model = compileGraph(graph);
  const mnist = loadMnist(root("fixtures/mnist"));
  const images = Array.from({ length: 200 }, (_, k) => mnist.image(8000 + k));
  const inputs = images.map((image) => encodeInput(model.program, image));

  log("keccak256, 64-byte inputs");
  const keccak = benchKeccak();
  log(`  @noble/hashes                       ${(keccak.nobleHashesPerSecond / 1000).toFixed(0).padStart(7)}k hashes/s`);
  log(`  WASM kernel, called from JS         ${(keccak.wasmHashesPerSecond / 1000).toFixed(0).padStart(7)}k hashes/s`);
  if (keccak.wasmInKernelHashesPerSecond) log(`  WASM kernel, inside the kernel      ${(keccak.wasmInKernelHashesPerSecond / 1000).toFixed(0).padStart(7)}k hashes/s`);

  log(`\nMNIST inference, 784-128-64-10 (${model.meta.parameters} parameters, ${model.meta.steps} steps), median`);
  const inference = benchInference(graph, model, inputs, images);
  log(`  TypeScript reference interpreter    ${formatUs(inference.referenceInterpreterUs).padStart(10)}   ${inference.referenceOverFloat.toFixed(1)}× float64`);
  log(`  WASM kernel                         ${formatUs(inference.wasmUs).padStart(10)}   ${inference.wasmOverFloat.toFixed(2)}× float64`);
  log(`  float64 forward pass (plain JS)     ${formatUs(inference.float64Us).padStart(10)}`);

  log("\nTraced MNIST run (WASM), model tree cached");
  const trace = benchTrace(model, inputs);
  log(`  traced run with trace root          ${trace.tracedRunMs.toFixed(2).padStart(7)} ms   (first run, building the model tree: ${trace.firstTracedRunMs.toFixed(1)} ms)`);
  log(`  witness for a step                  ${trace.witnessMs.toFixed(3).padStart(7)} ms   (checkpoint every ${trace.checkpointInterval} steps)`);
  log(`  steps ${trace.steps}, trace depth ${trace.traceDepth}, peak RSS ${trace.peakRssMB.toFixed(0)} MB`);

  const onnxruntime = await benchOnnxRuntime(root("fixtures/models/mnist-mlp.onnx"), images, { ...inference, tracedRunMs: trace.tracedRunMs });
  log(`\nThe same MNIST file in onnxruntime-node ${onnxruntime.version} (CPU, float32, intraOpNumThreads: ${onnxruntime.intraOpNumThreads}), this process, median`);
  log(`  onnxruntime-node session.run        ${formatUs(onnxruntime.sessionRunUs).padStart(10)}`);
  log(`  mlvm WASM kernel, plain run         ${formatUs(inference.wasmUs).padStart(10)}   ${onnxruntime.wasmOverOrt.toFixed(2)}× onnxruntime`);
  log(`  mlvm TypeScript interpreter         ${formatUs(inference.referenceInterpreterUs).padStart(10)}   ${onnxruntime.referenceOverOrt.toFixed(1)}× onnxruntime`);
  log(`  mlvm traced run (WASM, trace root)  ${formatUs(trace.tracedRunMs * 1000).padStart(10)}   ${onnxruntime.tracedOverOrt.toFixed(1)}× onnxruntime`);

  const lenet5 = await benchLenet(log);

  const traced = new WasmMachine(model).trace(inputs[0]);
  const merkle = benchMerkle(Array.from({ length: traced.steps + 1 }, (_, k) => traced.stateHash(k)));
  log(`\nTrace tree, ${merkle.leaves} leaves, both with @noble/hashes keccak`);
  log(`  merkletreejs                        ${merkle.merkletreejsMs.toFixed(1).padStart(7)} ms`);
  log(`  vm/merkle.ts                        ${merkle.vmMerkleMs.toFixed(1).padStart(7)} ms   (same root: ${merkle.sameRoot})`);

  log("\nOne-step verifier gas per step kind (every step of one MNIST trace as a transaction: 21,000 + calldata + execution)");
  const gas = await benchGas(model, inputs[0]);
  log("  step kind                    steps   max gas  median gas  calldata (of max)");
  for (const k of gas.stepKinds) {
    log(`  ${k.kind.padEnd(26)} ${String(k.steps).padStart(7)} ${String(k.maxGas).padStart(9)} ${String(k.medianGas).padStart(11)} ${String(k.maxCalldataGas).padStart(18)}`);
  }
  log("\nThe most expensive step of every opcode at MNIST's memory depth (15), as a transaction (bench/gas.ts)");
  log("  opcode        gas   calldata  reads  the step");
  for (const o of gas.opcodes) log(`  ${o.opcode.padEnd(10)} ${String(o.gas).padStart(7)} ${String(o.calldataGas).padStart(10)} ${String(o.reads).padStart(6)}  ${o.step}`);
  log(`  whole MNIST inference in the EVM (same Solidity library, weights in contract code): ${gas.fullInferenceGas.toLocaleString("en-US")} gas`);
  log(`  one dispute step / full on-chain inference: ${gas.maxStepGas.toLocaleString("en-US")} / ${gas.fullInferenceGas.toLocaleString("en-US")} = ${(100 * gas.stepOverFullInference).toFixed(2)}%`);
  log(`  (evm-neural-network, published: ${gas.evmNeuralNetworkGas.toLocaleString("en-US")} gas per MNIST inference)`);

  log(`\nA whole MNIST dispute on the Hardhat network (a claim with a wrong output, one challenger, m = ${DEFAULT_PARAMS.splitBits}), gas per transaction`);
  const dispute = await benchDispute(model, inputs[0]);
  log(`  register model ${dispute.register}, request ${dispute.request}`);
  log(`  claim ${dispute.claim}, challenge ${dispute.challenge}, ${dispute.rounds} rounds: ${dispute.movesCount} moves ${dispute.moves} (max reveal ${dispute.maxReveal}, max choose ${dispute.maxChoose}), prove ${dispute.prove}`);
  log(`  the dispute, both parties summed (claim + challenge + moves + prove): ${dispute.dispute.toLocaleString("en-US")} gas`);

  log("\nThe split m (2^m nodes a round) against gas: the MNIST dispute lying from steps 1, 1750, 3503, the most expensive of each");
  const sweep = await benchSplitSweep(model, inputs[0]);
  const split = { ...sweep, defaultSplitBits: DEFAULT_PARAMS.splitBits };
  log("     m  rounds   reveal   choose    prove    claim  challenge   whole dispute (max / min)");
  for (const p of sweep.points) {
    const mark = p.splitBits === DEFAULT_PARAMS.splitBits ? "  ← default" : "";
    const g = (n: number) => n.toLocaleString("en-US").padStart(8);
    log(`  ${String(p.splitBits).padStart(4)} ${String(p.rounds).padStart(7)} ${g(p.maxReveal)} ${g(p.maxChoose)} ${g(p.maxProve)} ${g(p.maxClaim)} ${g(p.maxChallenge).padStart(10)}   ${p.maxDispute.toLocaleString("en-US").padStart(9)} / ${p.minDispute.toLocaleString("en-US")}${mark}`);
  }
  log(`  cheapest whole dispute: m = ${sweep.cheapest}${sweep.cheapest === DEFAULT_PARAMS.splitBits ? " (the default)" : ` — NOT the default m = ${DEFAULT_PARAMS.splitBits}`}; each m on a fresh deployment after one uncounted warm-up dispute`);

  log("\nA whole MNIST dispute's wall time on a local Hardhat node (mlvm demo: daemons over JSON-RPC), fraudulent claim → void");
  const wall = await benchDisputeWall(quick ? [1750] : [1, 1750, 3503]);
  for (const r of wall.runs) log(`  lie from step ${String(r.lieAtStep).padStart(4)}: ${(r.wallMs / 1000).toFixed(2)} s, ${r.rounds} rounds (m = ${wall.splitBits}), ${r.gas.toLocaleString("en-US")} gas (challenge + moves + proof)`);
  log(`  median ${(wall.medianMs / 1000).toFixed(2)} s, max ${(wall.maxMs / 1000).toFixed(2)} s   (target ≤ 10 s; opML reports ~2 minutes)`);

  log("\nThe daemon's state file under request spam (agent-events.ts applied to the oracle's parsed events, then saved 20 times)");
  const spam = spamState(10_000);
  removeSpam(spam);
  const state = { requests: spam.requests, kept: spam.kept, bytes: spam.bytes, saveMedianMs: spam.saveMedianMs, saveMaxMs: spam.saveMaxMs };
  log(`  ${spamLine(spam)}`);

  log("\nA daemon catching up with a deployment it has never read (mlvm challenger, a local Hardhat node, claims spread over the blocks)");
  const catchUp = await benchCatchUp(model, inputs.slice(0, 5));
  log(`  ${catchUpLine(catchUp)}`);

  // The flood scenarios take minutes each (real daemons, a block every 250 ms, games played to their clocks):
  // on in the full run, off with --quick unless --flood asks for them (--no-flood skips them in a full run).
  let flood: FloodBench | null = null;
  if (argv.includes("--flood") || (!quick && !argv.includes("--no-flood"))) {
    log("\nFlood scenarios (localchain/flood.ts): one honest, online daemon against many dishonest parties, each on its own Hardhat node");
    flood = await benchFlood(log);
  } else {
    log("\nFlood scenarios: skipped (--quick or --no-flood; --flood runs them)");
  }

  let scale: ReturnType<typeof benchScale> | undefined;
  if (!quick) {
    log("\nScale sweep: random ReLU MLPs, each in its own process");
    scale = benchScale();
    const [base] = scale;
    log("  parameters      steps  depth  WASM plain  reference plain   traced run  witness  peak RSS   plain/param  traced/param (× smallest)");
    for (const p of scale) {
      const plainRatio = p.wasmPlainUs / p.parameters / (base.wasmPlainUs / base.parameters);
      const tracedRatio = p.tracedRunMs / p.parameters / (base.tracedRunMs / base.parameters);
      log(
        `  ${String(p.parameters).padStart(10)} ${String(p.steps).padStart(10)} ${String(p.traceDepth).padStart(6)} ${formatUs(p.wasmPlainUs).padStart(11)} ${formatUs(p.referencePlainUs).padStart(16)} ${(p.tracedRunMs.toFixed(1) + " ms").padStart(12)} ${(p.witnessMs.toFixed(2) + " ms").padStart(8)} ${(p.peakRssMB.toFixed(0) + " MB").padStart(9)} ${plainRatio.toFixed(2).padStart(13)} ${tracedRatio.toFixed(2).padStart(13)}`,
      );
    }
  }

  if (json) {
    console.log(JSON.stringify({ node: process.version, model: "mnist-mlp 784-128-64-10", parameters: model.meta.parameters, steps: model.meta.steps, keccak, mnistInference: inference, trace, onnxruntime, lenet5, merkle, gas, dispute, split, disputeWall: wall, state, catchUp, flood, scale: scale ?? null }, bigintsAsStrings, 2));
  }
}
