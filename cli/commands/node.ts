import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deployTo, rpcChainId, writeDeployments } from "../../challenger/deployments.js";
import { MlvmError } from "../../vm/errors.js";
import type { Command } from "../command.js";
import { HARDHAT_KEY_0, PROTOCOL_OPTIONS, protocolParams } from "./deploy.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The local chain did not come up. */
export class NodeStartError extends MlvmError {}

export const nodeCommand: Command = {
  name: "node",
  summary: "start a local Hardhat chain on 127.0.0.1, deploy the contracts, write a deployments file",
  usage: "mlvm node [--port N] [--deployments FILE] [--claim-bond ETH] [--challenge-bond ETH] [--window S] [--clock S]",
  options: {
    port: { type: "string", valueName: "N", description: "the JSON-RPC port (default 8545)" },
    deployments: { type: "string", valueName: "FILE", description: "where to write the addresses (default deployments.json)" },
    ...PROTOCOL_OPTIONS,
  },
  details: "Runs until interrupted (Ctrl-C, SIGTERM), then stops the chain. The deployer is Hardhat's account #0.",
  async run(_positionals, values, io) {
    const port = (values.port as string | undefined) ?? "8545";
    const rpc = `http://127.0.0.1:${port}`;
    const file = (values.deployments as string | undefined) ?? "deployments.json";
    const params = protocolParams(values);
    // The hardhat binary itself, not `npx hardhat`: killing npx would leave the node running.
    const child = spawn(join(ROOT, "node_modules", ".bin", "hardhat"), ["node", "--hostname", "127.0.0.1", "--port", port], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitForRpc(rpc, exited, () => stderr);
      const d = await deployTo(rpc, HARDHAT_KEY_0, params);
      writeDeployments(file, d);
      io.out(`local chain ${d.chainId} at ${rpc}; contracts deployed, addresses in ${file}; Ctrl-C stops it`);
    } catch (error) {
      child.kill("SIGTERM");
      throw error;
    }
    const stop = () => child.kill("SIGTERM");
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await exited;
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    io.out("local chain stopped");
  },
};

async function waitForRpc(rpc: string, exited: Promise<number | null>, stderr: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let attempt = 0; attempt < 120; attempt++) {
    if (gone) throw new NodeStartError(`hardhat node exited before answering: ${stderr().trim().split("\n")[0] ?? ""}`);
    try {
      await rpcChainId(rpc);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new NodeStartError(`no JSON-RPC answer at ${rpc} after 30 s`);
}
