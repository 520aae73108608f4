/**
 * One daemon per state file. Two daemons of one key would each challenge the same claim (two bonds) and race each
 * other's nonces on every move, so the second refuses to start. The lock is a file `<state>.lock` created
 * exclusively (O_EXCL) holding the owner's pid; a lock whose pid is no longer running (the owner was killed with
 * kill -9) is stale and taken over, said in the log. Node has no flock(), and a pid file is what operators can
 * inspect and remove by hand.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MlvmError } from "../vm/errors.js";

/** Another running process holds the state file. */
export class StateLockedError extends MlvmError {}

export interface StateLock {
  path: string;
  /** The pid of a dead owner whose lock was taken over, if any. */
  takenFrom?: number;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock of `statePath` for this process, or throws StateLockedError naming the holder. */
export function lockState(statePath: string): StateLock {
  const path = `${statePath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  let takenFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        path,
        takenFrom,
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(path, "utf8"), 10);
    } catch {
      continue; // released meanwhile: try again
    }
    if (Number.isInteger(holder) && alive(holder)) {
      throw new StateLockedError(`${statePath} is in use by another mlvm challenger (pid ${holder}): one daemon per key and state file`);
    }
    takenFrom = Number.isInteger(holder) ? holder : undefined;
    rmSync(path, { force: true }); // stale: its owner is gone
  }
  throw new StateLockedError(`${path}: could not take the lock (another daemon is starting?)`);
}
