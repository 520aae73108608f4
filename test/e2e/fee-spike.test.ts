/**
 * A fee spike against a challenge in flight: automine off and no block mined while the honest daemon sends its
 * challenge (signed at 2 × the base fee of ~1 gwei), then a block every 300 ms whose base fee is held at 100 gwei.
 * The signed challenge can never be included at that price: without repricing the game never starts and the lie
 * finalizes. The daemon replaces it (same nonce, higher fees, under its --max-fee) and the lie is voided by proof,
 * on both engines.
 */
import { ethers } from "ethers";
import { afterEach, describe, expect, it } from "vitest";
import { ENGINES, type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { type Miner, setAutomine, startMiner } from "../../localchain/miner.js";
import { type Daemon, scenario, startDaemon, until } from "./harness.js";

const LIAR = 3;
const CHALLENGER = 4;
const SPIKE = ethers.parseUnits("100", "gwei");

let node: LocalNode | undefined;
let miner: Miner | undefined;
const daemons: Daemon[] = [];

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop("SIGKILL")));
  await miner?.stop().catch(() => {});
  await node?.stop();
});

describe.each(ENGINES)("a fee spike on %s", (engine) => {
  it("strands the challenge in flight until the daemon reprices it; the lie is still voided by proof", async () => {
    node = await startLocalNode({ engine });
    const s = await scenario(node.rpc);
    const claimId = await s.claim(LIAR, await s.request(7), { step: 2222 });
    await setAutomine(node.rpc, false); // from here nothing is mined until the miner starts
    const challenger = startDaemon(s, CHALLENGER);
    daemons.push(challenger, startDaemon(s, LIAR, ["--defend-only"]));
    const sent = await challenger.waitFor("the challenge sent", (l) => l.event === "tx-sent" && String(l.what).startsWith("challengeMany"), 60);
    expect(ethers.parseUnits(String(sent.maxFeeGwei), "gwei")).toBeLessThan(SPIKE);
    miner = await startMiner(node.rpc, { intervalMs: 300, baseFeeWei: () => SPIKE });
    const { oracle } = await s.chain(0);
    await until("the lie voided", 120, async () => Number((await oracle.getClaim(claimId)).status) === 2);
    const repriced = challenger.lines.filter((l) => l.event === "tx-repriced" && l.nonce === sent.nonce);
    expect(repriced.length).toBeGreaterThan(0);
    expect(ethers.parseUnits(String(repriced.at(-1)!.maxFeeGwei), "gwei")).toBeGreaterThanOrEqual(SPIKE);
    await challenger.waitFor("the game won", (l) => l.event === "game-over" && l.result === "won", 60);
    expect(challenger.lines.filter((l) => l.event === "tx-dropped")).toEqual([]);
    console.log(`[${engine}] challenge signed at ${sent.maxFeeGwei} gwei, repriced ${repriced.length}× to ${repriced.at(-1)!.maxFeeGwei} gwei under a 100 gwei base fee; lie voided`);
  }, 180_000);
});
