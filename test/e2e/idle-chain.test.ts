/**
 * On a development chain that only mines when sent a transaction, the latest block's time stands still while the
 * wall clock runs. Windows and clocks are judged at the next block, so the daemon must not wait for a block
 * that nobody will mine: a proposer's daemon finalizes its claim once the window has passed in wall time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { E2E_PARAMS, scenario, startDaemon, type Daemon } from "./harness.js";

let node: LocalNode;
let daemon: Daemon | undefined;

beforeAll(async () => {
  node = await startLocalNode();
}, 90_000);

afterAll(async () => {
  await daemon?.stop("SIGKILL");
  await node?.stop();
});

describe("an idle automining chain", () => {
  it("the proposer's daemon finalizes its claim when the window passes, with no block mined meanwhile", async () => {
    const s = await scenario(node.rpc, { ...E2E_PARAMS, window: 8 });
    const claimId = await s.claim(2, await s.request(5));
    const { oracle, provider } = await s.chain(0);
    const blockAfterClaim = await provider.getBlockNumber();
    daemon = startDaemon(s, 2, ["--defend-only"]);
    const finalized = await daemon.waitFor("finalize", (l) => l.event === "finalize", 60);
    expect(finalized.claim).toBe(claimId.toString());
    expect((await oracle.getClaim(claimId)).status).toBe(3n);
    // The finalize transaction (and the withdrawal after it) are the only blocks since the claim.
    expect(await provider.getBlockNumber()).toBeLessThanOrEqual(blockAfterClaim + 2);
    await daemon.stop();
  }, 120_000);
});
