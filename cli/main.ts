/**
 * mlvm's command line: `mlvm <command> [options]`. Errors that are the input's fault (MlvmError) print one
 * line on stderr and exit 1; a bad command line exits 2; anything else is a bug in mlvm and exits 70.
 * --verbose adds the stack trace.
 */
import { parseArgs } from "node:util";
import { MlvmError } from "../vm/errors.js";
import { type Command, COMMON_OPTIONS, type Io, UsageError, helpText } from "./command.js";
import { compileCommand } from "./commands/compile.js";
import { deployCommand } from "./commands/deploy.js";
import { nodeCommand } from "./commands/node.js";
import { evalCommand } from "./commands/eval.js";
import { checkCommand } from "./commands/check.js";
import { runCommand } from "./commands/run.js";
import { traceCommand } from "./commands/trace.js";
import { registerCommand } from "./commands/register.js";
import { requestCommand } from "./commands/request.js";
import { claimCommand } from "./commands/claim.js";
import { finalizeCommand } from "./commands/finalize.js";
import { balanceCommand } from "./commands/balance.js";
import { withdrawCommand } from "./commands/withdraw.js";
import { statusCommand } from "./commands/status.js";
import { challengerCommand } from "./commands/challenger.js";
import { demoCommand } from "./commands/demo.js";

export const COMMANDS: Command[] = [compileCommand, runCommand, evalCommand, checkCommand, traceCommand, nodeCommand, deployCommand, registerCommand, requestCommand, claimCommand, finalizeCommand, balanceCommand, withdrawCommand, statusCommand, challengerCommand, demoCommand];

const consoleIo: Io = { out: (line) => process.stdout.write(line + "\n"), err: (line) => process.stderr.write(line + "\n") };

function overview(): string {
  return [
    "mlvm: an optimistic-rollup fraud-proof VM for ML inference",
    "",
    "usage: mlvm <command> [options]    (mlvm <command> --help for a command's options)",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
  ].join("\n");
}

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], io: Io = consoleIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(overview());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`mlvm: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})`);
    return 2;
  }
  const verbose = rest.includes("--verbose");
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...command.options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${(error as Error).message.split("\n")[0]} (see mlvm ${name} --help)`);
    }
    if (parsed.values.help) {
      io.out(helpText(command));
      return 0;
    }
    await command.run(parsed.positionals, parsed.values as Record<string, string | boolean | undefined>, io);
    return 0;
  } catch (error) {
    const known = error instanceof MlvmError;
    const message = error instanceof Error ? error.message : String(error);
    io.err(`mlvm ${name}: ${known ? "" : "internal error: "}${message.split("\n")[0]}`);
    if (verbose && error instanceof Error && error.stack) io.err(error.stack);
    return error instanceof UsageError ? 2 : known ? 1 : 70;
  }
}
