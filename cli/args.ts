/** Small checks on command-line values shared by the commands. */
import { readFileSync } from "node:fs";
import { InputError } from "../vm/errors.js";
import { UsageError } from "./command.js";

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positionals.length}: ${positionals.join(" ")}`);
  }
  return positionals[0];
}

/**
 * A whole-number option (digits only), or undefined when absent; `what` completes "--name must be …" in the
 * error, e.g. "a whole number of seconds".
 */
export function wholeNumberOption(values: Record<string, string | boolean | undefined>, name: string, what: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`--${name} must be ${what}, got "${String(v)}"`);
  return Number(v);
}

export function requiredString(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== "string") throw new UsageError(`missing --${name}`);
  return value;
}

/** Reads and parses a JSON file, naming the file in the error. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new InputError(`${what} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${what} ${path} is not valid JSON (${(error as Error).message})`);
  }
}

/** "A:B" → [A, B), checked against [0, max]. */
export function parseRange(text: string, max: number): [number, number] {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match) throw new UsageError(`--range must look like START:END, got "${text}"`);
  const [start, end] = [Number(match[1]), Number(match[2])];
  if (start >= end || end > max) throw new UsageError(`--range ${text} is empty or outside [0, ${max}]`);
  return [start, end];
}
