/**
 * The log reader against a provider that caps eth_getLogs as hosted ones do: a fake one that refuses ranges over N
 * blocks (or over R results) and records every call, and once a real ethers JsonRpcProvider talking to a small
 * HTTP server answering -32005, so the refusal is recognised in the shape ethers really gives it.
 */
import { type Server, createServer } from "node:http";
import { ethers } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import type { LogFields } from "./log.js";
import { LogChunkError, type LogFilter, LogRangeRefusedError, LogReader, isRangeRefusal } from "./log-reader.js";

const ADDRESS = "0x00000000000000000000000000000000000000aa";

/** A JSON-RPC error as ethers' JsonRpcProvider raises it for a node's answer it has no code for. */
const rpcError = (message: string) => ethers.makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { code: -32005, message } });

class CappedProvider {
  calls: { from: number; to: number; refused: boolean; filter: ethers.Filter }[] = [];
  constructor(
    private readonly blocks: number[],
    private readonly caps: { maxBlocks?: number; maxResults?: number; head?: number; fail?: Error } = {},
  ) {}

  get refused(): number {
    return this.calls.filter((c) => c.refused).length;
  }

  async getBlockNumber(): Promise<number> {
    return this.caps.head ?? 0;
  }

  async getLogs(filter: ethers.Filter): Promise<ethers.Log[]> {
    const from = Number(filter.fromBlock);
    const to = Number(filter.toBlock);
    if (this.caps.fail) throw this.caps.fail;
    const logs = this.blocks.filter((b) => b >= from && b <= to).map((blockNumber, index) => ({ blockNumber, index, address: ADDRESS }) as unknown as ethers.Log);
    const refusal =
      this.caps.maxBlocks !== undefined && to - from + 1 > this.caps.maxBlocks
        ? `query exceeds max block range ${this.caps.maxBlocks}`
        : this.caps.maxResults !== undefined && logs.length > this.caps.maxResults
          ? `query returned more than ${this.caps.maxResults} results`
          : undefined;
    this.calls.push({ from, to, refused: refusal !== undefined, filter });
    if (refusal) throw rpcError(refusal);
    return logs;
  }

  /** The ranges answered, in order. */
  answered(): [number, number][] {
    return this.calls.filter((c) => !c.refused).map((c) => [c.from, c.to]);
  }
}

const FILTER: LogFilter = { address: ADDRESS, topics: ["0x" + "11".repeat(32)] };

function logged() {
  const lines: { event: string; fields: LogFields }[] = [];
  return { lines, log: (_level: string, event: string, fields: LogFields = {}) => void lines.push({ event, fields }) };
}

/** Consecutive, non-overlapping ranges covering exactly [from, to] (in either direction). */
function expectCover(ranges: [number, number][], from: number, to: number) {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  expect(sorted[0][0]).toBe(from);
  expect(sorted.at(-1)![1]).toBe(to);
  for (let k = 1; k < sorted.length; k++) expect(sorted[k][0]).toBe(sorted[k - 1][1] + 1);
}

describe("forward reads", () => {
  it("a 1,000-block cap: the first 2,000-block range is refused, said once, and 10 chunks of 1,000 read every log in order", async () => {
    const blocks = [0, 999, 1000, 4321, 4321, 9999];
    const p = new CappedProvider(blocks, { maxBlocks: 1000 });
    const { lines, log } = logged();
    const reader = new LogReader(p, { log });
    const ends: number[] = [];
    const seen: number[] = [];
    await reader.forEachChunk(FILTER, 0, 9999, (logs, end) => {
      ends.push(end);
      seen.push(...logs.map((l) => l.blockNumber));
    });
    expect(seen).toEqual(blocks);
    expect(ends).toEqual([999, 1999, 2999, 3999, 4999, 5999, 6999, 7999, 8999, 9999]);
    expect(p.refused).toBe(1);
    expect(p.calls.length).toBe(11);
    expect(lines).toEqual([{ event: "log-range-refused", fields: { from: 0, to: 1999, blocks: 2000, nextChunk: 1000, error: "query exceeds max block range 1000" } }]);
    expect(p.calls.every((c) => c.filter.address === ADDRESS && c.filter.topics === FILTER.topics)).toBe(true);
  });

  it("keeps the smaller chunk: a second read makes no refused call", async () => {
    const p = new CappedProvider([5, 2500], { maxBlocks: 1000 });
    const reader = new LogReader(p);
    expect((await reader.all(FILTER, 0, 2999)).map((l) => l.blockNumber)).toEqual([5, 2500]);
    const before = p.calls.length;
    expect((await reader.all(FILTER, 0, 2999)).map((l) => l.blockNumber)).toEqual([5, 2500]);
    expect(p.calls.slice(before).map((c) => c.refused)).toEqual([false, false, false]);
    expect(reader.chunk).toBe(1000);
  });

  it("halves as often as needed (2,000 → 1,000 → 500 → 250 under a 300-block cap), one line each", async () => {
    const p = new CappedProvider([1, 2345], { maxBlocks: 300 });
    const { lines, log } = logged();
    const reader = new LogReader(p, { log });
    expect((await reader.all(FILTER, 0, 2999)).map((l) => l.blockNumber)).toEqual([1, 2345]);
    expect(lines.map((l) => l.fields.nextChunk)).toEqual([1000, 500, 250]);
    expectCover(p.answered(), 0, 2999);
    expect(p.answered().every(([a, b]) => b - a + 1 <= 250)).toBe(true);
  });

  it("halves the range actually asked, not the chunk, when the range is short (a clipped last chunk)", async () => {
    const p = new CappedProvider([], { maxBlocks: 40 });
    const { lines, log } = logged();
    await new LogReader(p, { log }).all(FILTER, 100, 199);
    expect(lines.map((l) => l.fields.nextChunk)).toEqual([50, 25]);
    expectCover(p.answered(), 100, 199);
  });

  it("a result cap is a refusal too: a dense range is split until each part is under it", async () => {
    const blocks = Array.from({ length: 40 }, (_, k) => 100 + k);
    const p = new CappedProvider(blocks, { maxResults: 10 });
    const reader = new LogReader(p, { chunk: 1000 });
    expect((await reader.all(FILTER, 0, 999)).map((l) => l.blockNumber)).toEqual(blocks);
    expect(p.refused).toBeGreaterThan(0);
    expectCover(p.answered(), 0, 999);
  });

  it("a single block refused is a LogRangeRefusedError, not an endless loop or an empty answer", async () => {
    const p = new CappedProvider([7, 7, 7], { maxResults: 2 });
    const reader = new LogReader(p, { chunk: 8 });
    const read = reader.all(FILTER, 0, 15);
    await expect(read).rejects.toBeInstanceOf(LogRangeRefusedError);
    await expect(read).rejects.toThrow(/single block 7: .*more than 2 results/);
    expect(p.calls.at(-1)).toMatchObject({ from: 7, to: 7, refused: true });
  });

  it("any other failure is the caller's, unchanged: no halving, no retry", async () => {
    const fail = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
    const p = new CappedProvider([], { fail });
    const { lines, log } = logged();
    const reader = new LogReader(p, { log });
    await expect(reader.all(FILTER, 0, 99)).rejects.toBe(fail);
    expect(lines).toEqual([]);
    expect(reader.chunk).toBe(2000);
  });

  it("an error thrown by onChunk stops the read after the chunks already delivered", async () => {
    const p = new CappedProvider([], {});
    const ends: number[] = [];
    const read = new LogReader(p, { chunk: 10 }).forEachChunk(FILTER, 0, 99, (_logs, end) => {
      ends.push(end);
      if (end === 29) throw new Error("cursor store full");
    });
    await expect(read).rejects.toThrow("cursor store full");
    expect(ends).toEqual([9, 19, 29]);
    expect(p.calls.length).toBe(3);
  });

  it("reads nothing when from > to, and resolves 'latest' to the head", async () => {
    const p = new CappedProvider([3, 50], { head: 60 });
    const reader = new LogReader(p);
    expect(await reader.all(FILTER, 10, 9)).toEqual([]);
    expect(p.calls.length).toBe(0);
    expect((await reader.all(FILTER, 0, "latest")).map((l) => l.blockNumber)).toEqual([3, 50]);
    expect(p.calls.map((c) => [c.from, c.to])).toEqual([[0, 60]]);
  });

  it("a chunk that is not a whole number ≥ 1 is refused at construction", () => {
    expect(() => new LogReader(new CappedProvider([]), { chunk: 0 })).toThrow(LogChunkError);
    expect(() => new LogReader(new CappedProvider([]), { chunk: 2.5 })).toThrow(LogChunkError);
  });
});

describe("backward search (findLast)", () => {
  it("a recent log: one refused range, then the first 1,000-block chunk back from the head holds it", async () => {
    const p = new CappedProvider([500, 9500, 9600], { maxBlocks: 1000 });
    const log = await new LogReader(p).findLast(FILTER, 0, 9999);
    expect(log!.blockNumber).toBe(9600);
    expect(p.calls.map((c) => [c.from, c.to, c.refused])).toEqual([
      [8000, 9999, true],
      [9000, 9999, false],
    ]);
  });

  it("an old log: walks back chunk by chunk, newest first, and stops at the chunk that has it", async () => {
    const p = new CappedProvider([500, 2600], { maxBlocks: 1000 });
    const log = await new LogReader(p).findLast(FILTER, 0, 9999);
    expect(log!.blockNumber).toBe(2600);
    const answered = p.answered();
    expect(answered.map(([from]) => from)).toEqual([9000, 8000, 7000, 6000, 5000, 4000, 3000, 2000]);
    expect(p.calls.length).toBe(9);
  });

  it("none: every block of [from, to] asked exactly once, then undefined", async () => {
    const p = new CappedProvider([10, 20_000], { maxBlocks: 700 });
    expect(await new LogReader(p).findLast(FILTER, 1000, 9999)).toBeUndefined();
    expectCover(p.answered(), 1000, 9999);
  });

  it("`match` picks among a chunk's logs, newest first, and the search goes on past chunks with no match", async () => {
    const p = new CappedProvider([100, 200, 1500, 1600], { maxBlocks: 1000 });
    const reader = new LogReader(p, { chunk: 1000 });
    expect((await reader.findLast(FILTER, 0, 1999, (l) => l.blockNumber < 1550))!.blockNumber).toBe(1500);
    expect((await reader.findLast(FILTER, 0, 1999, (l) => l.blockNumber < 150))!.blockNumber).toBe(100);
  });

  it("a single block refused while searching back is a LogRangeRefusedError", async () => {
    const p = new CappedProvider([5, 5, 5, 5], { maxResults: 3 });
    await expect(new LogReader(p, { chunk: 4 }).findLast(FILTER, 0, 7)).rejects.toBeInstanceOf(LogRangeRefusedError);
  });
});

describe("with a real ethers JsonRpcProvider", () => {
  let server: Server | undefined;
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("recognises the node's -32005 answer as a refusal and reads [0, 4,999] in 1,000-block chunks", async () => {
    const asked: [number, number][] = [];
    server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      const one = (r: { id: number; method: string; params: { fromBlock: string; toBlock: string }[] }) => {
        if (r.method === "eth_chainId") return { jsonrpc: "2.0", id: r.id, result: "0x7a69" };
        if (r.method === "eth_blockNumber") return { jsonrpc: "2.0", id: r.id, result: "0x1387" };
        const [from, to] = [Number(r.params[0].fromBlock), Number(r.params[0].toBlock)];
        asked.push([from, to]);
        if (to - from + 1 > 1000) return { jsonrpc: "2.0", id: r.id, error: { code: -32005, message: "query exceeds max block range 1000" } };
        return { jsonrpc: "2.0", id: r.id, result: [] };
      };
      const parsed = JSON.parse(body);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Array.isArray(parsed) ? parsed.map(one) : one(parsed)));
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const provider = new ethers.JsonRpcProvider(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 31337, { staticNetwork: true });
    try {
      let refusal: unknown;
      await provider.getLogs({ fromBlock: 0, toBlock: 4999 }).catch((e) => (refusal = e));
      expect(isRangeRefusal(refusal)).toBe(true);
      const reader = new LogReader(provider);
      expect(await reader.all({}, 0, "latest")).toEqual([]);
      expect(reader.chunk).toBe(1000);
      expect(asked.slice(1)).toEqual([[0, 1999], [0, 999], [1000, 1999], [2000, 2999], [3000, 3999], [4000, 4999]]);
      expect(isRangeRefusal(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(false);
    } finally {
      provider.destroy();
    }
  });
});
