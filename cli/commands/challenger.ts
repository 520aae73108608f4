import { join } from "node:path";
import { Agent } from "../../challenger/agent.js";
import { HARDHAT_CHAIN_ID } from "../../challenger/chain.js";
import { jsonLogger, textLogger } from "../../challenger/log.js";
import { ModelShelf } from "../../challenger/models.js";
import { CHAIN_OPTIONS, DEFAULT_STATE_DIR, claimBookOf, openChainFrom } from "../chain-options.js";
import type { Command } from "../command.js";
import { requiredString, wholeNumberOption } from "../args.js";

export const challengerCommand: Command = {
  name: "challenger",
  summary: "the daemon: re-execute every claim, challenge wrong ones, play every game to the end, defend own claims",
  usage: "mlvm challenger --models DIR [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--confirmations N] [--poll-ms MS] [--state FILE] [--defend-only] [--json]",
  options: {
    models: { type: "string", valueName: "DIR", description: "the models it can re-execute (.mlvm, .onnx, .json), matched to claims by model id" },
    ...CHAIN_OPTIONS,
    confirmations: { type: "string", valueName: "N", description: "read events only from blocks N deep (default 0 on a local Hardhat chain, else 2)" },
    "poll-ms": { type: "string", valueName: "MS", description: "the wait between passes when there is nothing to do (default 250 locally, else 2000)" },
    state: { type: "string", valueName: "FILE", description: "the state file (default <state-dir>/agent-<chain>-<address>.json)" },
    "defend-only": { type: "boolean", description: "do not challenge others' claims: only defend and finalize this key's own (a proposer's daemon)" },
    json: { type: "boolean", description: "log JSON lines instead of text" },
  },
  details: [
    "Each pass reads the oracle's events from a cursor kept in the state file, re-executes every new claim with the",
    "WASM machine and compares trace roots, challenges every wrong claim by another key inside its window (with the",
    "challenge bond), makes its move in every game it plays (choose and prove as challenger; reveal for claims made",
    "by its own key, from the claim book that `mlvm claim` keeps under --state-dir), claims timeouts, finalizes its",
    "own claims after their window, and withdraws its credit. Transactions are journaled in the state file before",
    "they are sent, so a kill -9 and a restart resume every game without sending anything twice. RPC failures are",
    "retried with back-off. Ctrl-C or SIGTERM stops it after the current step.",
  ].join("\n"),
  async run(_positionals, values, io) {
    const models = ModelShelf.fromDir(requiredString(values, "models"));
    const chain = await openChainFrom(values);
    const local = chain.chainId === HARDHAT_CHAIN_ID;
    const stateDir = (values["state-dir"] as string | undefined) ?? DEFAULT_STATE_DIR;
    const agent = await Agent.open({
      chain,
      models,
      statePath: (values.state as string | undefined) ?? join(stateDir, `agent-${chain.chainId}-${chain.address.toLowerCase()}.json`),
      book: claimBookOf(chain, values),
      confirmations: wholeNumberOption(values, "confirmations", "a whole number") ?? (local ? 0 : 2),
      pollMs: wholeNumberOption(values, "poll-ms", "a whole number") ?? (local ? 250 : 2000),
      challenge: !values["defend-only"],
      log: values.json ? jsonLogger(io.out) : textLogger(io.out),
    });
    const stop = () => agent.stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      await agent.run();
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  },
};
