/**
 * One way to read event logs, for every command and agent: hosted RPC providers cap eth_getLogs (10,000, 2,000 or
 * 1,024 blocks, or a number of results), so a single request from the deployment block to the head stops working
 * once a deployment is a few thousand blocks old. A LogReader asks `chunk` blocks at a time (default 2,000), forward
 * (`forEachChunk`, `all`) or newest first (`findLast`: a request or claim looked up by id is usually recent, so the
 * search stops at the first chunk that has it). A range the provider refuses as too large is halved and asked
 * again, said in one line ("log-range-refused"), and the smaller chunk is kept for later reads; a single block
 * refused is a LogRangeRefusedError. Any other failure is the caller's, unchanged.
 */
import type { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { type Logger, errorLine } from "./log.js";

/** The provider refuses eth_getLogs even for a single block: no smaller range is left to ask. */
export class LogRangeRefusedError extends MlvmError {}

/** A chunk size that is not a whole number of blocks ≥ 1. */
export class LogChunkError extends MlvmError {}

/** What to read: addresses and topics, without the block range (the reader chooses it). */
export type LogFilter = Omit<ethers.Filter, "fromBlock" | "toBlock">;

/** The provider calls a reader makes. */
export type LogProvider = Pick<ethers.Provider, "getLogs" | "getBlockNumber">;

export const DEFAULT_LOG_CHUNK = 2000;

export interface LogReaderOptions {
  /** Blocks per eth_getLogs at first (default 2,000). */
  chunk?: number;
  /** Told of each refused range ("log-range-refused": from, to, blocks, nextChunk, error). */
  log?: Logger;
}

/** A contract's event filter (`contract.filters.Claimed(id)`) as a LogFilter on that contract. */
export async function eventFilter(contract: ethers.BaseContract, event: ethers.DeferredTopicFilter): Promise<LogFilter> {
  return { address: await contract.getAddress(), topics: await event.getTopicFilter() };
}

export class LogReader {
  private size: number;
  private readonly log: Logger | undefined;

  constructor(
    private readonly provider: LogProvider,
    options: LogReaderOptions = {},
  ) {
    const chunk = options.chunk ?? DEFAULT_LOG_CHUNK;
    if (!Number.isInteger(chunk) || chunk < 1) throw new LogChunkError(`blocks per eth_getLogs must be a whole number ≥ 1, got ${chunk}`);
    this.size = chunk;
    this.log = options.log;
  }

  /** Blocks per eth_getLogs now (smaller than the first after a refusal). */
  get chunk(): number {
    return this.size;
  }

  /**
   * Reads [from, to] oldest first, one chunk per eth_getLogs, and calls `onChunk` with each chunk's logs and its
   * last block, in order and one at a time (a caller can save a cursor at `chunkEnd`). Nothing when from > to.
   */
  async forEachChunk(filter: LogFilter, from: number, to: number | "latest", onChunk: (logs: ethers.Log[], chunkEnd: number) => void | Promise<void>): Promise<void> {
    const last = await this.blockOf(to);
    let start = from;
    while (start <= last) {
      const end = Math.min(last, start + this.size - 1);
      const logs = await this.read(filter, start, end);
      if (!logs) continue;
      await onChunk(logs, end);
      start = end + 1;
    }
  }

  /** Every log in [from, to], oldest first. */
  async all(filter: LogFilter, from: number, to: number | "latest"): Promise<ethers.Log[]> {
    const out: ethers.Log[] = [];
    await this.forEachChunk(filter, from, to, (logs) => {
      for (const log of logs) out.push(log);
    });
    return out;
  }

  /**
   * The newest log in [from, to] (that `match` accepts, if given), searching chunk by chunk from `to` back, and
   * stopping at the first chunk that holds one; undefined if none does.
   */
  async findLast(filter: LogFilter, from: number, to: number | "latest", match?: (log: ethers.Log) => boolean): Promise<ethers.Log | undefined> {
    let end = await this.blockOf(to);
    while (end >= from) {
      const start = Math.max(from, end - this.size + 1);
      const logs = await this.read(filter, start, end);
      if (!logs) continue;
      for (let k = logs.length - 1; k >= 0; k--) if (!match || match(logs[k])) return logs[k];
      end = start - 1;
    }
    return undefined;
  }

  private async blockOf(tag: number | "latest"): Promise<number> {
    return tag === "latest" ? this.provider.getBlockNumber() : tag;
  }

  /** One eth_getLogs of [from, to]; undefined if the range was refused (the chunk is then smaller). */
  private async read(filter: LogFilter, from: number, to: number): Promise<ethers.Log[] | undefined> {
    try {
      return await this.provider.getLogs({ ...filter, fromBlock: from, toBlock: to });
    } catch (error) {
      if (!isRangeRefusal(error)) throw error;
      const blocks = to - from + 1;
      if (blocks === 1) throw new LogRangeRefusedError(`the RPC provider refuses eth_getLogs even for the single block ${from}: ${errorLine(error)}`);
      this.size = Math.min(this.size, Math.ceil(blocks / 2));
      this.log?.("warn", "log-range-refused", { from, to, blocks, nextChunk: this.size, error: errorLine(error) });
      return undefined;
    }
  }
}

/**
 * A provider's refusal of an eth_getLogs range as too large or too many results (a JSON-RPC error answered by the
 * node, not a transport failure): e.g. "query exceeds max block range 1000", "block range is too wide", "query
 * returned more than 10000 results", "Log response size exceeded".
 */
export function isRangeRefusal(error: unknown): boolean {
  const e = error as { code?: string; error?: { message?: unknown }; info?: { error?: { message?: unknown } }; message?: unknown };
  const answered = [e.error?.message, e.info?.error?.message].find((m) => typeof m === "string") as string | undefined;
  if (answered === undefined && e.code !== "UNKNOWN_ERROR" && e.code !== "SERVER_ERROR") return false;
  return /range|too (many|large|wide|big)|more than|exceed|limit/i.test(answered ?? String(e.message));
}
