/**
 * An honest challenger behind an RPC provider that caps eth_getLogs at 1,000 blocks, on a chain 10,000 blocks
 * longer than its deployment, with automine off and 12 s of chain time per block: four lies from two sybil keys,
 * each defended by its own liar's daemon, all at once. The daemon's first scan asks for ~10,000 blocks in
 * 2,000-block chunks; the provider refuses; the daemon halves the range (said in one line), catches up, and wins
 * every game. Then a voided request is claimed again, honestly: the daemon reads that request's input back from
 * its one block (the state keeps requests as blocks) and judges it, where it once made one unbounded eth_getLogs,
 * was refused, and never judged anything again.
 */
import { ethers } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { type Miner, rpcCall, startMiner } from "../../localchain/miner.js";
import { mnist } from "../helpers/models.js";
import { type Daemon, LogCapProxy, scenario, startDaemon, until } from "./harness.js";

const LIARS = [3, 5];
const HONEST = 4;
const HONEST_PROPOSER = 2;
const N = mnist().meta.steps;
const VOID = 2n;

let node: LocalNode;
let proxy: LogCapProxy | undefined;
let miner: Miner | undefined;
const daemons: Daemon[] = [];

beforeAll(async () => {
  node = await startLocalNode();
}, 90_000);

afterAll(async () => {
  await miner?.stop();
  await Promise.all(daemons.map((d) => d.stop("SIGKILL")));
  await proxy?.close();
  await node?.stop();
});

it("a 1,000-block eth_getLogs cap, 10,000 blocks to catch up, 12 s blocks, four lies from two sybil keys: every lie is voided by the honest daemon's proofs", async () => {
  const s = await scenario(node.rpc);
  await rpcCall(node.rpc, "hardhat_mine", [ethers.toQuantity(10_000)]);
  const lies: bigint[] = [];
  const requests: bigint[] = [];
  for (let k = 0; k < 4; k++) {
    requests.push(await s.request(60 + k));
    lies.push(await s.claim(LIARS[k % 2], requests[k], { step: 1 + ((k * 1409) % N) }));
  }
  for (const liar of LIARS) daemons.push(startDaemon(s, liar, ["--defend-only"]));
  miner = await startMiner(node.rpc, { intervalMs: 300, blockSeconds: 12 });
  proxy = new LogCapProxy(node.rpc, 1000);
  await proxy.listen();
  const honest = startDaemon(s, HONEST, [], proxy.url);
  daemons.push(honest);

  const { oracle } = await s.chain(0);
  const status = async (claimId: bigint) => BigInt((await oracle.getClaim(claimId)).status);
  await until("every lie void", 150, async () => (await Promise.all(lies.map(status))).every((x) => x === VOID));

  const honestAddress = (await s.chain(HONEST)).address;
  for (const claimId of lies) {
    const [voided] = await oracle.queryFilter(oracle.filters.ClaimVoided(claimId));
    expect(((voided as ethers.EventLog).args.winner as string).toLowerCase()).toBe(honestAddress.toLowerCase());
  }
  // The cap was met and said once per halving, and the daemon never failed a pass over it.
  expect(proxy.refused).toBeGreaterThan(0);
  const refusals = honest.lines.filter((l) => l.event === "log-range-refused");
  expect(refusals.length).toBeGreaterThan(0);
  expect(refusals.at(-1)!.nextChunk as number).toBeLessThanOrEqual(1000);
  expect(honest.lines.filter((l) => l.event === "pass-failed")).toEqual([]);
  // Each proof's line is written when the daemon finds its receipt (its next pass).
  await until("four proofs logged", 30, () => honest.lines.filter((l) => l.event === "move" && l.move === "prove").length === 4);
  // A voided request claimed again, honestly (it was made 10,000 blocks after the deployment): judged valid, no
  // pass failed.
  const again = await s.claim(HONEST_PROPOSER, requests[0]);
  const verdict = await honest.waitFor("the new claim judged", (l) => l.event === "verdict" && l.claim === again.toString(), 60);
  expect(verdict.verdict).toBe("valid");
  expect(honest.lines.filter((l) => l.event === "pass-failed" || l.event === "rpc-retry")).toEqual([]);
  console.log(`capped eth_getLogs: ${proxy.refused} range(s) refused, chunks ${refusals.map((l) => l.nextChunk).join(" → ")}; 4 lies voided by proof`);
}, 240_000);
