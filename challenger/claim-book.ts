/**
 * The claim book: what a key's claims were made of, written by `mlvm claim` and read by the daemon running the
 * same key, so it defends each claim with the trace tree it committed to. An honest claim needs no entry (the
 * daemon rebuilds its tree by re-executing); a claim made with --lie-output / --lie-at-step K does: nobody
 * could rebuild its garbage otherwise. Entries carry the trace root, so a book left over from another chain
 * never applies to the wrong claim.
 *   {"version": 1, "claims": {"<claimId>": {"requestId": "1", "modelId": "0x…", "traceRoot": "0x…",
 *    "lie": {"step": 1234}}}}
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { MlvmError } from "../vm/errors.js";

/** A dishonest claim: every state from `step` on is wrong (step = N: only the final state and its output). */
export interface Lie {
  step: number;
}

export interface BookEntry {
  requestId: string;
  modelId: string;
  traceRoot: string;
  lie?: Lie;
}

export class ClaimBookError extends MlvmError {}

interface BookFile {
  version: 1;
  claims: Record<string, BookEntry>;
}

/** Writes a JSON file so that a reader (or a crash) never sees half of it. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 1) + "\n");
  renameSync(tmp, path);
}

export class ClaimBook {
  constructor(readonly path: string) {}

  private read(): BookFile {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, claims: {} };
      throw new ClaimBookError(`${this.path}: cannot read the claim book (${(error as NodeJS.ErrnoException).code})`);
    }
    try {
      const book = JSON.parse(text) as BookFile;
      if (book.version !== 1 || typeof book.claims !== "object") throw new Error("not a version 1 claim book");
      return book;
    } catch (error) {
      throw new ClaimBookError(`${this.path}: ${(error as Error).message}`);
    }
  }

  /** The entry for `claimId` whose trace root is `traceRoot`, if any. */
  get(claimId: bigint, traceRoot: string): BookEntry | undefined {
    const entry = this.read().claims[claimId.toString()];
    return entry && entry.traceRoot.toLowerCase() === traceRoot.toLowerCase() ? entry : undefined;
  }

  add(claimId: bigint, entry: BookEntry): void {
    const book = this.read();
    book.claims[claimId.toString()] = entry;
    writeJsonAtomic(this.path, book);
  }
}
