/**
 * A capped RPC provider on demand: a JSON-RPC proxy in front of a local chain that refuses eth_getLogs over more
 * than N blocks, as hosted providers do. The capped-RPC tests and the catch-up benchmark run the real daemon and
 * commands through it.
 */
import { type Server as HttpServer, createServer as createHttpServer } from "node:http";

/**
 * A JSON-RPC proxy that refuses eth_getLogs over more than `maxBlocks` blocks, as hosted providers do (answering a
 * JSON-RPC error, -32005 "query exceeds max block range"), and passes everything else to the node. Batched requests
 * are answered element by element. `refused` counts the refusals, `getLogs` every eth_getLogs asked.
 */
export class LogCapProxy {
  private server: HttpServer | undefined;
  refused = 0;
  getLogs = 0;
  port = 0;

  constructor(
    private readonly target: string,
    private readonly maxBlocks: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server = createHttpServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      const parsed = JSON.parse(body) as RpcRequest | RpcRequest[];
      const answer = Array.isArray(parsed) ? await Promise.all(parsed.map((r) => this.answer(r))) : await this.answer(parsed);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  private async answer(r: RpcRequest): Promise<unknown> {
    if (r.method === "eth_getLogs") {
      this.getLogs++;
      const filter = (r.params?.[0] ?? {}) as { fromBlock?: string; toBlock?: string; blockHash?: string };
      if (!filter.blockHash) {
        const head = async () => BigInt(((await this.forward({ jsonrpc: "2.0", id: 0, method: "eth_blockNumber", params: [] })) as { result: string }).result);
        const block = async (tag: string | undefined) => (tag === undefined || tag === "latest" || tag === "pending" ? await head() : tag === "earliest" ? 0n : BigInt(tag));
        const blocks = (await block(filter.toBlock)) - (await block(filter.fromBlock)) + 1n;
        if (blocks > BigInt(this.maxBlocks)) {
          this.refused++;
          return { jsonrpc: "2.0", id: r.id, error: { code: -32005, message: `query exceeds max block range ${this.maxBlocks}` } };
        }
      }
    }
    return this.forward(r);
  }

  private async forward(r: RpcRequest): Promise<unknown> {
    const response = await fetch(this.target, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(r) });
    return response.json();
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface RpcRequest {
  jsonrpc: string;
  id: number | string;
  method: string;
  params?: unknown[];
}
