import { deployTo, writeDeployments } from "../../challenger/deployments.js";
import { startLocalNode } from "../../localchain/hardhat-node.js";
import type { Command } from "../command.js";
import { PROTOCOL_OPTIONS, paramsText, protocolParams } from "./deploy.js";
import { hardhatKey } from "../../challenger/chain.js";

export const nodeCommand: Command = {
  name: "node",
  summary: "start a local Hardhat chain on 127.0.0.1, deploy the contracts, write a deployments file",
  usage: "mlvm node [--port N] [--deployments FILE] [--claim-bond ETH] [--challenge-bond ETH] [--window S] [--clock S] [--split-bits M]",
  options: {
    port: { type: "string", valueName: "N", description: "the JSON-RPC port (default 8545)" },
    deployments: { type: "string", valueName: "FILE", description: "where to write the addresses (default deployments.json)" },
    ...PROTOCOL_OPTIONS,
  },
  details: [
    "Runs until interrupted (Ctrl-C, SIGTERM), then stops the chain. The deployer is Hardhat's account #0. The",
    "deployments file records the parameters as mlvm deploy writes them (params.splitBits: m, each game round",
    "reveals 2^m trace nodes).",
  ].join("\n"),
  async run(_positionals, values, io) {
    const port = (values.port as string | undefined) ?? "8545";
    const rpc = `http://127.0.0.1:${port}`;
    const file = (values.deployments as string | undefined) ?? "deployments.json";
    const params = protocolParams(values);
    const node = await startLocalNode(Number(port));
    try {
      const d = await deployTo(rpc, hardhatKey(0), params);
      writeDeployments(file, d);
      io.out(`local chain ${d.chainId} at ${rpc}; contracts deployed, addresses in ${file}; Ctrl-C stops it`);
      io.out(`  ${paramsText(d.params)}`);
    } catch (error) {
      await node.stop();
      throw error;
    }
    const stop = () => void node.stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await node.exited;
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    io.out("local chain stopped");
  },
};
