/**
 * The stage of a flood scenario (flood.ts): a fresh local chain (`hardhat node`, or anvil: see stageEngine) with
 * the protocol deployed at its default parameters and the MNIST model registered and compiled into a models directory, funded keys, transactions sent
 * many at a time (to land in one block), a loop run once per new block (the scripted parties), real `mlvm
 * challenger` daemons, and the figures read back from their logs and the chain.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { type Chain, hardhatKey, openChain } from "../challenger/chain.js";
import { inputLeaves, modelFields } from "../challenger/claims.js";
import { DEFAULT_PARAMS, connect, deployTo, writeDeployments } from "../challenger/deployments.js";
import { ModelShelf, type ShelvedModel } from "../challenger/models.js";
import { eventsIn } from "../challenger/protocol.js";
import { sendTx } from "../challenger/revert.js";
import { type CompiledModel, compileGraph } from "../compiler/compile.js";
import { encodeModelFile } from "../compiler/modelfile.js";
import { importOnnx } from "../compiler/onnx.js";
import { type MnistSet, loadMnist } from "../datasets/mnist.js";
import { encodeInput } from "../interpreter/run.js";
import { type DaemonArgs, type DaemonProcess, type LogLine, spawnDaemon } from "./daemon-process.js";
import { ENGINES, type Engine, type LocalNode, NodeStartError, startLocalNode } from "./local-node.js";
import { type Miner, startMiner } from "./miner.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

let compiled: CompiledModel | undefined;
let digits: MnistSet | undefined;

/** The bundled MNIST model, compiled once per process. */
export function mnistModel(): CompiledModel {
  compiled ??= compileGraph(importOnnx(readFileSync(join(FIXTURES, "models/mnist-mlp.onnx")), "mnist-mlp"));
  return compiled;
}

/** MNIST test image k as the model's input. */
export function mnistImage(k: number): Int32Array {
  digits ??= loadMnist(join(FIXTURES, "mnist"));
  return encodeInput(mnistModel().program, digits.image(k));
}

/** Something that runs until stopped and may have failed meanwhile (its error is rethrown by stop()). */
export interface Running {
  stop(): Promise<void>;
}

export interface Stage {
  node: LocalNode;
  rpc: string;
  dir: string;
  deployments: string;
  modelsDir: string;
  stateDir: string;
  shelved: ShelvedModel;
  /** Account 0's view of the deployment (deployer, registrant; reads). */
  owner: Chain;
  provider: ethers.JsonRpcProvider;
  /** A test-mnemonic account's view of the deployment (cached). */
  chain(account: number): Promise<Chain>;
  /** A wallet for a private key, on this stage's provider. */
  wallet(key: string): ethers.Wallet;
  /** Starts `mlvm challenger` on this deployment (stopped with the stage). */
  daemon(args: Omit<DaemonArgs, "deployments" | "modelsDir" | "stateDir">): DaemonProcess;
  /** Turns automine off and mines a block every `intervalMs` at +12 s (stopped with the stage). */
  mine(intervalMs: number): Promise<Miner>;
  /** Runs `step` once for each new block until stopped (stopped with the stage). */
  everyBlock(step: (block: ethers.Block) => Promise<void>): Running;
  /** Stops daemons, loops, the miner and the node, and removes the scenario's files. */
  close(): Promise<void>;
}

/**
 * The engine a stage's chain runs when openStage is not told: $MLVM_CHAIN_ENGINE ("hardhat" or "anvil"), else
 * hardhat. The flood scenarios open their stage without options, so this is how a test file or a benchmark run
 * puts all of them on anvil.
 */
export function stageEngine(): Engine {
  const v = process.env.MLVM_CHAIN_ENGINE;
  if (v === undefined || v === "") return "hardhat";
  if (!ENGINES.includes(v as Engine)) throw new NodeStartError(`MLVM_CHAIN_ENGINE must be ${ENGINES.join(" or ")}, got "${v}"`);
  return v as Engine;
}

/** A fresh node with the protocol deployed (DEFAULT_PARAMS) and MNIST registered, automining until mine() is called. */
export async function openStage(options: { engine?: Engine } = {}): Promise<Stage> {
  const node = await startLocalNode({ engine: options.engine ?? stageEngine() });
  const dir = mkdtempSync(join(tmpdir(), "mlvm-flood-"));
  const daemons: DaemonProcess[] = [];
  const loops: Running[] = [];
  let miner: Miner | undefined;
  try {
    const deployments = join(dir, "deployments.json");
    writeDeployments(deployments, await deployTo(node.rpc, hardhatKey(0), DEFAULT_PARAMS));
    const modelsDir = join(dir, "models");
    mkdirSync(modelsDir);
    const model = mnistModel();
    writeFileSync(join(modelsDir, "mnist.mlvm"), encodeModelFile(model));
    const shelved = new ModelShelf().add(model, "mnist");
    const chains = new Map<number, Chain>();
    const chain = async (account: number) => {
      if (!chains.has(account)) {
        const c = await openChain({ deployments, account });
        c.provider.pollingInterval = 100; // tx.wait() on a chain that mines every few hundred ms
        chains.set(account, c);
      }
      return chains.get(account)!;
    };
    const owner = await chain(0);
    await sendTx(owner.registry, "register", [modelFields(model), ""]);
    const provider = await connect(node.rpc);
    provider.pollingInterval = 100;
    const stateDir = join(dir, "state");
    return {
      node,
      rpc: node.rpc,
      dir,
      deployments,
      modelsDir,
      stateDir,
      shelved,
      owner,
      provider,
      chain,
      wallet: (key) => new ethers.Wallet(key, provider),
      daemon(args) {
        const d = spawnDaemon({ ...args, deployments, modelsDir, stateDir });
        daemons.push(d);
        return d;
      },
      async mine(intervalMs) {
        miner = await startMiner(node.rpc, { intervalMs, blockSeconds: 12 });
        return miner;
      },
      everyBlock(step) {
        const loop = perBlock(provider, step);
        loops.push(loop);
        return loop;
      },
      async close() {
        await Promise.all(daemons.map((d) => d.stop("SIGKILL")));
        await Promise.allSettled(loops.map((l) => l.stop()));
        await miner?.stop().catch(() => undefined);
        for (const c of chains.values()) c.provider.destroy();
        provider.destroy();
        await node.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function perBlock(provider: ethers.Provider, step: (block: ethers.Block) => Promise<void>): Running {
  let stopping = false;
  let failure: unknown;
  const loop = (async () => {
    let last = -1;
    while (!stopping) {
      try {
        const block = await provider.getBlock("latest");
        if (block && block.number > last) {
          last = block.number;
          await step(block);
          continue;
        }
      } catch (error) {
        if (stopping) return;
        failure = error;
        return;
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      if (failure) throw failure;
    },
  };
}

/** Keys derived from Hardhat's mnemonic past its 20 funded accounts (`first` ≥ 20): deterministic, empty. */
export function extraKeys(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => hardhatKey(first + k));
}

/**
 * Sends `txs` from `wallet` with consecutive nonces without waiting between them, then waits for every receipt:
 * on a chain with automine off they all land in the next block(s).
 */
export async function sendAll(wallet: ethers.Wallet, txs: ethers.TransactionRequest[]): Promise<ethers.TransactionReceipt[]> {
  const provider = wallet.provider!;
  let nonce = await provider.getTransactionCount(wallet.address, "pending");
  const fees = await provider.getFeeData();
  const sent: ethers.TransactionResponse[] = [];
  for (const tx of txs) sent.push(await wallet.sendTransaction({ maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas, ...tx, nonce: nonce++ }));
  return Promise.all(sent.map(async (t) => (await t.wait())!));
}

/** Sends `value` wei to each of `to` from `from`. */
export async function fund(from: ethers.Wallet, to: string[], value: bigint): Promise<void> {
  await sendAll(
    from,
    to.map((address) => ({ to: address, value, gasLimit: 21_000n })),
  );
}

/** Requests inferences of MNIST test images `images` as `requester`; their request ids, in order. */
export async function requestImages(requester: Chain, shelved: ShelvedModel, images: number[]): Promise<bigint[]> {
  const oracle = requester.oracle;
  const receipts = await sendAll(
    requester.wallet,
    images.map((k) => ({ to: oracle.target as string, data: oracle.interface.encodeFunctionData("request", [shelved.id, inputLeaves(mnistImage(k)), ethers.ZeroAddress]), gasLimit: 500_000n })),
  );
  return receipts.map((r) => eventsIn(r, oracle, "InferenceRequested")[0].args.requestId as bigint);
}

export interface EventAt {
  args: ethers.Result;
  blockNumber: number;
  transactionHash: string;
}

/** The events named `name` that `contract` emitted from block `from` on (with `topics` after the event's own). */
export async function eventsSince(contract: ethers.Contract, name: string, from: number, topics: (string | null)[] = []): Promise<EventAt[]> {
  const topic = contract.interface.getEvent(name)!.topicHash;
  const logs = await contract.runner!.provider!.getLogs({ address: contract.target as string, topics: [topic, ...topics], fromBlock: from, toBlock: "latest" });
  return logs.map((l) => ({ args: contract.interface.parseLog(l)!.args, blockNumber: l.blockNumber, transactionHash: l.transactionHash }));
}

/** A topic for an indexed uint256 argument. */
export const idTopic = (id: bigint) => ethers.toBeHex(id, 32);

/** What it cost `address` in fees to send transactions with these hashes. */
export async function feesOf(provider: ethers.Provider, hashes: string[]): Promise<bigint> {
  const receipts = await Promise.all(hashes.map((h) => provider.getTransactionReceipt(h)));
  return receipts.reduce((sum, r) => sum + (r ? r.fee : 0n), 0n);
}

/** The daemon's moves per block in which it moved, from its "batch" lines. */
export function movesPerBlock(lines: readonly LogLine[]): { max: number; mean: number; blocks: number; moves: number; mostBatchesInABlock: number } {
  const byBlock = new Map<number, number>();
  const batches = new Map<number, number>();
  for (const l of lines) {
    if (l.event !== "batch") continue;
    byBlock.set(Number(l.block), (byBlock.get(Number(l.block)) ?? 0) + Number(l.moves));
    batches.set(Number(l.block), (batches.get(Number(l.block)) ?? 0) + 1);
  }
  const counts = [...byBlock.values()].filter((n) => n > 0);
  const moves = counts.reduce((a, b) => a + b, 0);
  // Several multicalls of one key in one block: the pipeline kept them in flight together.
  return { max: Math.max(0, ...counts), mean: counts.length ? moves / counts.length : 0, blocks: counts.length, moves, mostBatchesInABlock: Math.max(0, ...batches.values()) };
}

/** The least clock left (seconds) at any move the daemon made as `role`, as of the block that included it. */
export function leastClockLeft(lines: readonly LogLine[], role: string): number {
  const left = lines.filter((l) => l.event === "move" && l.role === role && typeof l.clockLeft === "number").map((l) => l.clockLeft as number);
  return left.length ? Math.min(...left) : DEFAULT_PARAMS.clock;
}
