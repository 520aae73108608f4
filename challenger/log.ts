/**
 * The daemon's structured log: one line per event, JSON by default (for machines: `jq`, log shippers) or
 * key=value text (for people at a terminal). Every line has a time, a level and an event name; the fields say
 * which claim, which game, which round and how many are left.
 */
export type Level = "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  (level: Level, event: string, fields?: LogFields): void;
}

/**
 * An error as one log field: the node's own words when it answered (ethers wraps them in "could not coalesce error
 * (…)" with the whole request), else the message; its first line, at most `max` characters.
 */
export function errorLine(error: unknown, max = 300): string {
  const answered = (error as { error?: { message?: unknown } } | undefined)?.error?.message;
  const text = typeof answered === "string" ? answered : error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].slice(0, max);
}

/** A JSON.stringify replacer: bigints (ids, wei, gas) as decimal strings. */
export const bigintsAsStrings = (_key: string, value: unknown): unknown => (typeof value === "bigint" ? value.toString() : value);

export function jsonLogger(write: (line: string) => void): Logger {
  return (level, event, fields = {}) => write(JSON.stringify({ t: new Date().toISOString(), level, event, ...fields }, bigintsAsStrings));
}

export function textLogger(write: (line: string) => void): Logger {
  return (level, event, fields = {}) => {
    const parts = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v, bigintsAsStrings) : String(v)}`);
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${event}${parts.length ? " " + parts.join(" ") : ""}`);
  };
}

/** Sends every line to each of `loggers`. */
export function teeLogger(...loggers: Logger[]): Logger {
  return (level, event, fields) => loggers.forEach((log) => log(level, event, fields));
}

export const silentLogger: Logger = () => {};
