/**
 * `mlvm demo`: the whole story of a disputed inference on a fresh local chain (demo/scenario.ts). SIGINT and
 * SIGTERM stop the chain it started before the command ends (one line, exit 1), so no chain outlives the demo.
 */
import { jsonLogger } from "../../challenger/log.js";
import { BUNDLED_MODELS, bundledModel } from "../../demo/models.js";
import { type DemoSummary, runDemo } from "../../demo/scenario.js";
import { MlvmError } from "../../vm/errors.js";
import { type Command, UsageError } from "../command.js";
import { wholeNumberOption } from "../args.js";

/** The demo was stopped by a signal (its chain stopped with it). */
export class DemoInterruptedError extends MlvmError {}

export const demoCommand: Command = {
  name: "demo",
  summary: "a whole bisection dispute over an MNIST inference on a local chain, in one command",
  usage: "mlvm demo [--model mnist-mlp|lenet5] [--lie-at-step K] [--digits A,B] [--json] [--log]",
  options: {
    model: { type: "string", valueName: "NAME", description: `the bundled model to dispute: ${Object.keys(BUNDLED_MODELS).join(" or ")} (default mnist-mlp)` },
    "lie-at-step": { type: "string", valueName: "K", description: "the fraudulent claim's first wrong state (default: a random step)" },
    digits: { type: "string", valueName: "A,B", description: "the two MNIST test images the consumer asks about (default 0,1)" },
    json: { type: "boolean", description: "print only a JSON summary: dispute wall time, rounds, gas per move, balances, results" },
    log: { type: "boolean", description: "also print every agent's structured log lines (on stderr)" },
  },
  details: [
    "Starts a Hardhat node on a free port, deploys the contracts, registers a bundled MNIST model (the MLP, or",
    "LeNet-5 with --model lenet5); a consumer",
    "contract asks for two digits; an honest proposer claims one, a fraudulent proposer claims the other with a",
    "wrong state from step K on; the challenger daemon catches the fraud and wins the bisection game against the",
    "fraudulent proposer's daemon, round by round; the honest proposer claims the reopened request, the window",
    "passes (time travel), both claims are finalized and the consumer receives both digits. Stops the chain at the end.",
  ].join("\n"),
  async run(_positionals, values, io) {
    const model = values.model === undefined ? undefined : String(values.model);
    if (model !== undefined && !bundledModel(model)) throw new UsageError(`--model must be one of ${Object.keys(BUNDLED_MODELS).join(", ")}, got "${model}"`);
    const lieAtStep = wholeNumberOption(values, "lie-at-step", "a step number");
    let digits: [number, number] | undefined;
    if (values.digits !== undefined) {
      const m = /^(\d+),(\d+)$/.exec(String(values.digits));
      if (!m || Number(m[1]) > 9999 || Number(m[2]) > 9999) throw new UsageError(`--digits must be two MNIST test indices A,B in 0…9999, got "${String(values.digits)}"`);
      digits = [Number(m[1]), Number(m[2])];
    }
    const interrupt = new AbortController();
    let caught: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      caught ??= signal;
      interrupt.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let summary: DemoSummary;
    try {
      summary = await runDemo({
        model,
        lieAtStep,
        digits,
        say: values.json ? undefined : io.out,
        log: values.log ? jsonLogger(io.err) : undefined,
        signal: interrupt.signal,
      });
    } catch (error) {
      if (caught) throw new DemoInterruptedError(`interrupted by ${caught}; the local chain is stopped`);
      throw error;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (values.json) io.out(JSON.stringify(summary));
  },
};
