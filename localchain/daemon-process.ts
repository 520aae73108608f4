/**
 * `mlvm challenger` as a real child process, its JSON log lines collected as they come: how the end-to-end tests,
 * the flood scenarios and the benchmark run the daemon exactly as a user would. Also `until`, the polling wait
 * they all use.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Polls `check` every 100 ms until it returns a value (not undefined or false); throws after `seconds`. */
export const until = async <T>(what: string, seconds: number, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> => {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export type LogLine = Record<string, unknown>;

/** A running `mlvm challenger` process and the JSON lines it logged. */
export interface DaemonProcess {
  process: ChildProcess;
  lines: LogLine[];
  exited: Promise<number | null>;
  /** The last line it wrote on stderr, if any (a crash's reason). */
  stderrTail(): string;
  /** Waits for a log line matching `pred` (searching lines logged since index `from`). */
  waitFor(what: string, pred: (line: LogLine) => boolean, seconds?: number, from?: number): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface DaemonArgs {
  deployments: string;
  modelsDir: string;
  stateDir: string;
  /** Hardhat account N (a local chain), or `key`. */
  account?: number;
  key?: string;
  rpc?: string;
  /** Further options: --defend-only, --confirmations N, --gas-budget N, … */
  extra?: string[];
  /** A name for its wait messages (default: the account or "key"). */
  name?: string;
}

/** Starts `mlvm challenger --json` with a 100 ms poll. */
export function spawnDaemon(a: DaemonArgs): DaemonProcess {
  const who = a.key !== undefined ? ["--key", a.key] : ["--account", String(a.account ?? 0)];
  const args = [join(ROOT, "bin/mlvm.js"), "challenger", "--models", a.modelsDir, "--deployments", a.deployments, ...who, "--state-dir", a.stateDir, "--poll-ms", "100", "--json", ...(a.rpc ? ["--rpc", a.rpc] : []), ...(a.extra ?? [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const lines: LogLine[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const name = a.name ?? (a.key !== undefined ? "key" : String(a.account ?? 0));
  const stderrTail = () => stderr.trim().split("\n").at(-1) ?? "";
  return {
    process: child,
    lines,
    exited,
    stderrTail,
    waitFor: (what, pred, seconds = 60, from = 0) => until(`daemon ${name}: ${what}${stderr ? ` (stderr: ${stderrTail()})` : ""}`, seconds, () => lines.slice(from).find(pred)),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
