import { join } from "node:path";
import { ethers } from "ethers";
import { Agent } from "../../challenger/agent.js";
import { DEFAULT_GAS_BUDGET, MAX_GAS_BUDGET } from "../../challenger/agent-batch.js";
import { HARDHAT_CHAIN_ID } from "../../challenger/chain.js";
import { jsonLogger, textLogger } from "../../challenger/log.js";
import { ModelShelf } from "../../challenger/models.js";
import { DEFAULT_MAX_FEE, DEFAULT_MAX_IN_FLIGHT } from "../../challenger/tx-pipeline.js";
import { CHAIN_OPTIONS, DEFAULT_STATE_DIR, claimBookOf, openChainFrom } from "../chain-options.js";
import { type Command, UsageError } from "../command.js";
import { requiredString, wholeNumberOption } from "../args.js";

/**
 * A batch's gas budget: at least one move's worth (a proof takes up to ~200,000), and at most what keeps the
 * batch's limit (budget + 10% + 100,000) under the per-transaction gas cap of 16,777,216 (EIP-7825).
 */
function gasBudgetOption(values: Record<string, string | boolean | undefined>): bigint | undefined {
  const budget = wholeNumberOption(values, "gas-budget", "a whole number of gas");
  if (budget === undefined) return undefined;
  if (budget < 300_000 || budget > MAX_GAS_BUDGET) throw new UsageError(`--gas-budget must be between 300000 (one move) and ${MAX_GAS_BUDGET} (the transaction gas cap), got ${budget}`);
  return BigInt(budget);
}

/** --max-fee in gwei, as wei. */
function maxFeeOption(values: Record<string, string | boolean | undefined>): bigint | undefined {
  const v = values["max-fee"];
  if (v === undefined) return undefined;
  let wei: bigint;
  try {
    wei = ethers.parseUnits(String(v), "gwei");
  } catch {
    throw new UsageError(`--max-fee must be an amount of gwei, got "${v}"`);
  }
  if (wei <= 0n) throw new UsageError(`--max-fee must be more than 0 gwei, got "${v}"`);
  return wei;
}

export const challengerCommand: Command = {
  name: "challenger",
  summary: "the daemon: re-execute every claim, challenge wrong ones, defend own and honest ones, play every game to the end",
  usage: "mlvm challenger --models DIR [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--confirmations N] [--poll-ms MS] [--gas-budget GAS] [--max-fee GWEI] [--max-in-flight N] [--log-chunk BLOCKS] [--state FILE] [--defend-only] [--json]",
  options: {
    models: { type: "string", valueName: "DIR", description: "the models it can re-execute (.mlvm, .onnx, .json), matched to claims by model id" },
    ...CHAIN_OPTIONS,
    confirmations: { type: "string", valueName: "N", description: "read events only from blocks N deep (default 0 on a local Hardhat chain, else 2)" },
    "poll-ms": { type: "string", valueName: "MS", description: "the wait between passes when there is nothing to do (default 250 locally, else 2000)" },
    "gas-budget": { type: "string", valueName: "GAS", description: `gas per transaction of moves or challenges, by the calls' own estimates (default ${DEFAULT_GAS_BUDGET.toLocaleString("en-US")})` },
    "max-fee": { type: "string", valueName: "GWEI", description: `the highest max fee per gas it signs; stuck transactions are repriced up to it (default ${ethers.formatUnits(DEFAULT_MAX_FEE, "gwei")})` },
    "max-in-flight": { type: "string", valueName: "N", description: `transactions sent and not yet mined, at most (default ${DEFAULT_MAX_IN_FLIGHT})` },
    state: { type: "string", valueName: "FILE", description: "the state file (default <state-dir>/agent-<chain>-<address>.json); one daemon per file (a lock)" },
    "defend-only": { type: "boolean", description: "do not challenge others' claims: only defend (its own claims and every claim it judges valid) and finalize its own (a proposer's daemon)" },
    json: { type: "boolean", description: "log JSON lines instead of text" },
  },
  details: [
    "Each pass reads the oracle's events from a cursor kept in the state file, re-executes every new claim with the",
    "WASM machine and compares trace roots, and challenges every wrong claim by another key inside its window, all",
    "in one challengeMany transaction (earliest deadline first, as many as it can pay the bonds of). Then it makes",
    "every move due in every game it has a part in, as one multicall transaction, most urgent first (least clock",
    "left) up to --gas-budget: choose and prove as challenger; reveal for claims made by its own key (from the claim",
    "book that `mlvm claim` keeps under --state-dir) and for every claim it judged valid, whoever made it (defender",
    "moves are anyone's), and prove an honest claim's leaf itself; timeouts against clocks that ran out, and, once a",
    "claim is void, in every game against it, so that it settles. It finalizes its own claims after their window,",
    "collects its share of a settled void claim's bond, and withdraws its credit. Transactions are journaled in the",
    "state file before they are sent, so a kill -9 and a restart resume every game without sending anything twice.",
    "Transactions do not wait for each other: up to --max-in-flight are in flight, and one still unmined two blocks",
    "after it was signed (or priced under the base fee) is replaced with fees 12.5% higher, up to --max-fee. Events",
    "are read in chunks the RPC accepts (a refused range is halved); a reorg is noticed by block hashes and what the",
    "dropped blocks did is undone; a restarted chain (new genesis) sets the state aside. One daemon per state file:",
    "a second is refused. RPC failures are retried with back-off. Ctrl-C or SIGTERM stops it after the current step.",
  ].join("\n"),
  async run(_positionals, values, io) {
    const gasBudget = gasBudgetOption(values); // usage errors before anything is loaded
    const maxFee = maxFeeOption(values);
    const maxInFlight = wholeNumberOption(values, "max-in-flight", "a whole number");
    if (maxInFlight !== undefined && maxInFlight < 1) throw new UsageError(`--max-in-flight must be at least 1, got ${maxInFlight}`);
    const log = values.json ? jsonLogger(io.out) : textLogger(io.out);
    const models = ModelShelf.fromDir(requiredString(values, "models"), (skipped) => log("warn", "model-skipped", { file: skipped.file, reason: skipped.reason }));
    const chain = await openChainFrom(values, { log });
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
      gasBudget,
      maxFee,
      maxInFlight,
      log,
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
