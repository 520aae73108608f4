/**
 * A local Hardhat chain as a child process (`hardhat node` on 127.0.0.1): what `mlvm node`, `mlvm demo`, the
 * end-to-end tests and the dispute benchmark run against. The hardhat binary is spawned directly, not through
 * npx, so that stopping it stops the chain. Also the JSON-RPC calls only a development chain answers (time
 * travel), for finalizing claims without waiting out a window.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ethers } from "ethers";
import { rpcChainId } from "../challenger/deployments.js";
import { MlvmError } from "../vm/errors.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The local chain did not come up. */
export class NodeStartError extends MlvmError {}

export interface LocalNode {
  rpc: string;
  port: number;
  process: ChildProcess;
  /** Resolves with the exit code when the chain has stopped. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Starts `hardhat node` on 127.0.0.1:`port` (a free one if not given) and waits until it answers. */
export async function startLocalNode(port?: number): Promise<LocalNode> {
  const p = port ?? (await freePort());
  const rpc = `http://127.0.0.1:${p}`;
  const child = spawn(join(ROOT, "node_modules", ".bin", "hardhat"), ["node", "--hostname", "127.0.0.1", "--port", String(p)], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) child.kill("SIGTERM");
    await exited;
  };
  for (let attempt = 0; attempt < 240; attempt++) {
    if (gone) throw new NodeStartError(`hardhat node exited before answering: ${stderr.trim().split("\n")[0] ?? ""}`);
    try {
      await rpcChainId(rpc);
      return { rpc, port: p, process: child, exited, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await stop();
  throw new NodeStartError(`no JSON-RPC answer at ${rpc} after 60 s`);
}

/** Moves a development chain's clock forward by `seconds` and mines a block at the new time. */
export async function advanceTime(provider: ethers.JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}
