/**
 * `mlvm node`: a local chain of either engine (Hardhat or anvil) with the contracts deployed and a deployments file
 * written, run until interrupted. A taken port is refused before anything starts (else the server already there
 * would get a second contract set and the file would point at it); SIGINT/SIGTERM stop the chain; a chain that
 * stops on its own is an error (exit 1), since every address in the deployments file went with it.
 */
import { hardhatKey } from "../../challenger/chain.js";
import { deployTo, writeDeployments } from "../../challenger/deployments.js";
import { ChainExitedError, ENGINES, type Engine, exitText, startLocalNode } from "../../localchain/local-node.js";
import { wholeNumberOption } from "../args.js";
import { type Command, UsageError } from "../command.js";
import { PROTOCOL_OPTIONS, paramsText, protocolParams } from "./deploy.js";

/** --engine's value: hardhat (the default) or anvil. */
export function engineOption(values: Record<string, string | boolean | undefined>): Engine {
  const v = values.engine ?? "hardhat";
  if (!ENGINES.includes(v as Engine)) throw new UsageError(`--engine must be ${ENGINES.join(" or ")}, got "${String(v)}"`);
  return v as Engine;
}

export const nodeCommand: Command = {
  name: "node",
  summary: "start a local chain (Hardhat or anvil) on 127.0.0.1, deploy the contracts, write a deployments file",
  usage: "mlvm node [--engine hardhat|anvil] [--port N] [--deployments FILE] [--claim-bond ETH] [--challenge-bond ETH] [--window S] [--clock S] [--split-bits M]",
  options: {
    engine: { type: "string", valueName: "E", description: "the chain: hardhat (default, `hardhat node`) or anvil (Foundry's)" },
    port: { type: "string", valueName: "N", description: "the JSON-RPC port; refused if in use (default 8545)" },
    deployments: { type: "string", valueName: "FILE", description: "where to write the addresses (default deployments.json)" },
    ...PROTOCOL_OPTIONS,
  },
  details: [
    "Runs until interrupted (Ctrl-C, SIGTERM), then stops the chain; exits 1 if the chain stops on its own. Both",
    "engines run chain id 31337 with Hardhat's 20 funded test accounts, a 60M block gas limit and the EIP-7825",
    "per-transaction cap. The deployer is account #0. The deployments file records the parameters as mlvm deploy",
    "writes them (params.splitBits: m, each game round reveals 2^m trace nodes).",
  ].join("\n"),
  async run(_positionals, values, io) {
    const engine = engineOption(values);
    const port = wholeNumberOption(values, "port", "a TCP port number") ?? 8545;
    if (port < 1 || port > 65535) throw new UsageError(`--port must be from 1 to 65535, got ${port}`);
    const file = (values.deployments as string | undefined) ?? "deployments.json";
    const params = protocolParams(values);
    // Wired before the chain is spawned, so that no moment leaves a chain behind a signalled mlvm node.
    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      let node;
      try {
        node = await startLocalNode({ engine, port, signal: interrupt.signal });
        const d = await deployTo(node.rpc, hardhatKey(0), params);
        writeDeployments(file, d);
        io.out(`local chain ${d.chainId} at ${node.rpc} (${engine}, pid ${node.pid}); contracts deployed, addresses in ${file}; Ctrl-C stops it`);
        io.out(`  ${paramsText(d.params)}`);
      } catch (error) {
        await node?.stop();
        if (!interrupt.signal.aborted) throw error;
        io.out("local chain stopped");
        return;
      }
      const exit = await node.exited;
      // Ctrl-C in a terminal signals the whole process group: the chain may exit of it before this process's own
      // handler has run, so a signal that is on its way still counts as asked.
      if (!node.stopRequested) await new Promise((r) => setTimeout(r, 250));
      if (!node.stopRequested && !interrupt.signal.aborted) throw new ChainExitedError(`the ${engine} chain (pid ${node.pid}) stopped on its own (${exitText(exit)}); the contracts in ${file} went with it`);
      io.out("local chain stopped");
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};
