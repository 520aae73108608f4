/**
 * What every subcommand declares: its name, a one-line summary, its usage and options (for --help and for
 * util.parseArgs), and what it does. Output goes through `io` so tests can run commands in-process.
 */
import type { ParseArgsConfig } from "node:util";
import { MlvmError } from "../vm/errors.js";

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & { description: string; valueName?: string };

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Paragraphs printed after the options in --help. */
  details?: string;
  run(positionals: string[], values: Record<string, string | boolean | undefined>, io: Io): Promise<void> | void;
}

/** A command line that does not fit its command's usage. */
export class UsageError extends MlvmError {}

export function helpText(cmd: Command): string {
  const lines = [`mlvm ${cmd.name}: ${cmd.summary}`, "", `usage: ${cmd.usage}`, "", "options:"];
  const all = { ...cmd.options, ...COMMON_OPTIONS };
  for (const [name, spec] of Object.entries(all)) {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`;
    lines.push(`  ${flag.padEnd(28)} ${spec.description}`);
  }
  if (cmd.details) lines.push("", cmd.details);
  return lines.join("\n");
}

export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "print this help" },
  verbose: { type: "boolean", description: "on error, print the stack trace too" },
};
