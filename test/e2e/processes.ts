/**
 * Process hygiene checks for the end-to-end tests: `mlvm` run as a real child process (its stdout and stderr lines
 * collected), the processes it spawned (read from Linux's /proc, so that a test sees the chain a command started
 * whether or not the command tells), whether a process still runs, and whether a port still accepts connections.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { until } from "../../localchain/daemon-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The pids of `pid`'s children (every thread's), from /proc. */
export function childPids(pid: number): number[] {
  const tasks = join("/proc", String(pid), "task");
  if (!existsSync(tasks)) return [];
  return readdirSync(tasks).flatMap((t) => {
    try {
      return readFileSync(join(tasks, t, "children"), "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/** A process's command line, arguments separated by spaces ("" if it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(join("/proc", String(pid), "cmdline"), "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, is not). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(join("/proc", String(pid), "stat"), "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** `node bin/mlvm.js …` as a child process. */
export interface MlvmProcess {
  process: ChildProcess;
  out: string[];
  err: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a stdout line matching `pattern`; returns its match. */
  waitForOut(pattern: RegExp, seconds?: number): Promise<RegExpExecArray>;
  /** The child process of this one whose command line matches `pattern` (the chain it started). */
  child(pattern: RegExp): number | undefined;
}

export function spawnMlvm(args: string[]): MlvmProcess {
  const child = spawn(process.execPath, [join(ROOT, "bin/mlvm.js"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const err: string[] = [];
  for (const [stream, lines] of [[child.stdout!, out], [child.stderr!, err]] as const) {
    let buffer = "";
    stream.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
    });
    stream.on("end", () => buffer && lines.push(buffer));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    out,
    err,
    exited,
    waitForOut: (pattern, seconds = 90) =>
      until(`mlvm ${args[0]} to print ${pattern} (stderr: ${err.at(-1) ?? ""})`, seconds, () => {
        if (child.exitCode !== null) throw new Error(`mlvm ${args[0]} exited (${child.exitCode}): ${err.join(" | ")}`);
        for (const line of out) {
          const m = pattern.exec(line);
          if (m) return m;
        }
        return undefined;
      }),
    child: (pattern) => childPids(child.pid!).find((pid) => pattern.test(commandLine(pid))),
  };
}
