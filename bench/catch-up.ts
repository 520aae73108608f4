/**
 * How long the daemon takes to catch up with a deployment it has never read, behind an RPC provider that caps
 * eth_getLogs as hosted ones do: a real `hardhat node`, claims spread over 10,000 blocks, and a real `mlvm
 * challenger` process started after them, once through a 1,000-block LogCapProxy and once straight to the node.
 * Measured from its "start" line (its state opened, models loaded) to the "verdict" line of the last claim: it
 * judges claims only after reading every block up to the head, so that is the catch-up. The spawn (Node, tsx, the
 * model) is reported apart as start-up.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { hardhatKey, openChain } from "../challenger/chain.js";
import { ClaimBook } from "../challenger/claim-book.js";
import { inputLeaves, modelFields } from "../challenger/claims.js";
import { DEFAULT_PARAMS, deployTo, writeDeployments } from "../challenger/deployments.js";
import { DEFAULT_LOG_CHUNK } from "../challenger/log-reader.js";
import { ModelShelf } from "../challenger/models.js";
import { eventsIn } from "../challenger/protocol.js";
import { proposeClaim } from "../challenger/proposer.js";
import { findRequest } from "../challenger/requests.js";
import { sendTx } from "../challenger/revert.js";
import type { CompiledModel } from "../compiler/compile.js";
import { encodeModelFile } from "../compiler/modelfile.js";
import { type LogLine, spawnDaemon, until } from "../localchain/daemon-process.js";
import { startLocalNode } from "../localchain/local-node.js";
import { rpcCall } from "../localchain/miner.js";
import { LogCapProxy } from "../localchain/log-cap-proxy.js";

export const CATCH_UP_BLOCKS = 10_000;
export const CATCH_UP_CAP = 1000;

export interface CatchUpRun {
  /** From the daemon's "start" line to the last claim's "verdict" line. */
  catchUpMs: number;
  /** From the spawn to the "start" line. */
  startupMs: number;
  /** eth_getLogs the daemon asked through the proxy, and how many it refused (0 and null when uncapped). */
  getLogs: number | null;
  refused: number | null;
  /** The chunk sizes its "log-range-refused" lines announced, in order. */
  chunks: number[];
}

export interface CatchUp {
  blocks: number;
  cap: number;
  claims: number;
  capped: CatchUpRun;
  uncapped: CatchUpRun;
}

/** Starts the chain, spreads one honest claim per input over CATCH_UP_BLOCKS blocks, then times both daemons. */
export async function benchCatchUp(model: CompiledModel, inputs: Int32Array[]): Promise<CatchUp> {
  const node = await startLocalNode();
  const proxy = new LogCapProxy(node.rpc, CATCH_UP_CAP);
  try {
    const dir = mkdtempSync(join(tmpdir(), "mlvm-catch-up-"));
    const deployments = join(dir, "deployments.json");
    writeDeployments(deployments, await deployTo(node.rpc, hardhatKey(0), { ...DEFAULT_PARAMS, window: 24 * 3600, clock: 3600 }));
    const modelsDir = join(dir, "models");
    mkdirSync(modelsDir);
    writeFileSync(join(modelsDir, "model.mlvm"), encodeModelFile(model));
    const shelved = new ModelShelf().add(model, "model");
    const [owner, requester, claimant] = await Promise.all([0, 1, 2].map((account) => openChain({ deployments, account })));
    await sendTx(owner.registry, "register", [modelFields(model), ""]);
    const book = new ClaimBook(join(dir, "claims.json"));
    const gap = Math.floor(CATCH_UP_BLOCKS / inputs.length);
    for (const input of inputs) {
      await rpcCall(node.rpc, "hardhat_mine", [ethers.toQuantity(gap)]);
      const receipt = await sendTx(requester.oracle, "request", [shelved.id, inputLeaves(input), ethers.ZeroAddress]);
      const requestId = eventsIn(receipt, requester.oracle, "InferenceRequested")[0].args.requestId as bigint;
      await proposeClaim(claimant, shelved, await findRequest(claimant, requestId), book);
    }
    for (const c of [owner, requester, claimant]) c.provider.destroy();
    await proxy.listen();
    const run = async (account: number, rpc: string): Promise<CatchUpRun> => {
      const before = { getLogs: proxy.getLogs, refused: proxy.refused };
      const spawned = Date.now();
      const daemon = spawnDaemon({ deployments, modelsDir, stateDir: join(dir, "state"), account, rpc });
      try {
        const start = await daemon.waitFor("start", (l) => l.event === "start", 120);
        const verdicts = () => daemon.lines.filter((l) => l.event === "verdict");
        await until(`the daemon's verdicts on ${inputs.length} claims (stderr: ${daemon.stderrTail()})`, 600, () => verdicts().length >= inputs.length);
        const last = verdicts().at(-1)!;
        const at = (l: LogLine) => Date.parse(l.t as string);
        const capped = rpc === proxy.url;
        return {
          catchUpMs: at(last) - at(start),
          startupMs: at(start) - spawned,
          getLogs: capped ? proxy.getLogs - before.getLogs : null,
          refused: capped ? proxy.refused - before.refused : null,
          chunks: daemon.lines.filter((l) => l.event === "log-range-refused").map((l) => l.nextChunk as number),
        };
      } finally {
        await daemon.stop();
      }
    };
    // Two keys, so the second daemon reads the chain from the deployment block too (each key has its own state).
    const capped = await run(4, proxy.url);
    const uncapped = await run(5, node.rpc);
    return { blocks: CATCH_UP_BLOCKS, cap: CATCH_UP_CAP, claims: inputs.length, capped, uncapped };
  } finally {
    await proxy.close();
    await node.stop();
  }
}

export function catchUpLine(c: CatchUp): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return (
    `${s(c.capped.catchUpMs)} to catch up ${c.blocks.toLocaleString("en-US")} blocks (${c.claims} claims judged) behind a ${c.cap.toLocaleString("en-US")}-block eth_getLogs cap: ` +
    `${c.capped.getLogs} eth_getLogs, ${c.capped.refused} refused (chunk ${[DEFAULT_LOG_CHUNK, ...c.capped.chunks].join(" → ")}); uncapped ${s(c.uncapped.catchUpMs)}; daemon start-up ${s(c.capped.startupMs)}`
  );
}
