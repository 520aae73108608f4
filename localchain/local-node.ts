/**
 * A local development chain as a child process on 127.0.0.1, with either engine: `hardhat node` (the default) or
 * Foundry's anvil. What `mlvm node`, `mlvm demo`, the end-to-end tests, the flood scenarios and the benchmark run
 * against. One start function for both: a port someone named is refused if taken before anything is spawned (or
 * the server already there would answer in the chain's place), the child is the chain itself (stopping it stops the
 * chain), and an AbortSignal, wired to SIGINT/SIGTERM by the commands, stops it too, even while it is starting.
 * Also the time travel both engines answer (evm_increaseTime), for finalizing claims without waiting out a window.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ethers } from "ethers";
import { rpcChainId } from "../challenger/deployments.js";
import { MlvmError } from "../vm/errors.js";
import { anvilCommand } from "./anvil-node.js";
import { hardhatCommand } from "./hardhat-node.js";
import { assertPortFree, freePort } from "./ports.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The two chain implementations mlvm can start. */
export const ENGINES = ["hardhat", "anvil"] as const;
export type Engine = (typeof ENGINES)[number];

/** The local chain did not come up. */
export class NodeStartError extends MlvmError {}

/** The local chain's process ended without being asked to (it crashed, or someone killed it). */
export class ChainExitedError extends MlvmError {}

/** How the chain's process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LocalNodeOptions {
  /** Default "hardhat". */
  engine?: Engine;
  /** The JSON-RPC port; refused (PortInUseError) if something listens there. Default: a free one. */
  port?: number;
  /** Aborting it stops the chain, also while it is starting (startLocalNode then rejects). */
  signal?: AbortSignal;
}

export interface LocalNode {
  engine: Engine;
  rpc: string;
  port: number;
  /** The chain's own process id (the engine binary, not a wrapper). */
  pid: number;
  process: ChildProcess;
  /** Resolves when the chain has stopped, however it stopped. */
  exited: Promise<NodeExit>;
  /** Whether the chain was asked to stop (stop() or the abort signal): if not, an exit is the chain dying on its own. */
  readonly stopRequested: boolean;
  /** Stops the chain (SIGTERM, SIGKILL after 10 s) and waits for its exit. */
  stop(): Promise<void>;
}

/** "exit code 1", "killed by SIGKILL". */
export function exitText(exit: NodeExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** Starts a chain of `engine` on 127.0.0.1 and waits until it answers JSON-RPC (60 s at most). */
export async function startLocalNode(options: LocalNodeOptions = {}): Promise<LocalNode> {
  const engine = options.engine ?? "hardhat";
  if (!ENGINES.includes(engine)) throw new NodeStartError(`unknown chain engine "${String(engine)}" (engines: ${ENGINES.join(", ")})`);
  if (options.port !== undefined) await assertPortFree(options.port);
  const port = options.port ?? (await freePort());
  const rpc = `http://127.0.0.1:${port}`;
  const command = engine === "anvil" ? anvilCommand(port) : hardhatCommand(port);
  const signal = options.signal;
  if (signal?.aborted) throw new NodeStartError(`${engine} chain not started: interrupted`);
  const child = spawn(command.file, command.args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...command.env } });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  let spawnError: Error | undefined;
  const exited = new Promise<NodeExit>((resolve) => {
    child.once("exit", (code, sig) => resolve({ code, signal: sig }));
    // A binary that cannot be spawned emits only "error".
    child.once("error", (error) => {
      spawnError = error;
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  let gone = false;
  let stopRequested = false;
  const stop = async () => {
    stopRequested = true;
    if (!gone) {
      child.kill("SIGTERM");
      const hard = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(hard);
    }
  };
  const onAbort = () => void stop();
  signal?.addEventListener("abort", onAbort, { once: true });
  void exited.then(() => {
    gone = true;
    signal?.removeEventListener("abort", onAbort);
  });
  const node: LocalNode = {
    engine,
    rpc,
    port,
    pid: child.pid ?? -1,
    process: child,
    exited,
    get stopRequested() {
      return stopRequested;
    },
    stop,
  };
  for (let attempt = 0; attempt < 600; attempt++) {
    if (signal?.aborted) {
      await stop();
      throw new NodeStartError(`${engine} chain stopped before it answered: interrupted`);
    }
    if (gone) {
      const why = spawnError ? spawnError.message : (stderr.trim().split("\n")[0] ?? "") || exitText(await exited);
      throw new NodeStartError(`${engine} chain exited before answering: ${why}`);
    }
    try {
      await rpcChainId(rpc);
      if (!gone) return node;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new NodeStartError(`no JSON-RPC answer from the ${engine} chain at ${rpc} after 60 s`);
}

/** Moves a development chain's clock forward by `seconds` and mines a block at the new time. */
export async function advanceTime(provider: ethers.JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}
