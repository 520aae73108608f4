/**
 * The daemon as an operator runs it, against what a real deployment throws at it: a second instance of the same
 * key (refused: two daemons would pay two bonds and race every nonce), a key with no ETH (said once, not three
 * times a second), the chain restarting under a running daemon (a new genesis: said once, the state set aside,
 * and the daemon goes on with the new chain instead of looping on a panic or going blind), and the RPC serving
 * another chain id (it stops in one line: the deployments file is not for that chain). Real `mlvm challenger`
 * processes against real `hardhat node` and anvil processes.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { ethers } from "ethers";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { rpcChainId } from "../../challenger/deployments.js";
import { anvilCommand } from "../../localchain/anvil-node.js";
import { type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { freePort } from "../../localchain/ports.js";
import { spawnDaemon } from "../../localchain/daemon-process.js";
import { type Daemon, type Scenario, scenario, startDaemon, until } from "./harness.js";

const LIAR = 3;
const CHALLENGER = 4;
const VOID = 2n;

const nodes: LocalNode[] = [];
const daemons: Daemon[] = [];

async function node(port?: number): Promise<LocalNode> {
  const n = await startLocalNode({ port });
  nodes.push(n);
  return n;
}

function daemon(s: Scenario, account: number, extra: string[] = []): Daemon {
  const d = startDaemon(s, account, extra);
  daemons.push(d);
  return d;
}

const status = async (s: Scenario, claimId: bigint) => BigInt((await (await s.chain(0)).oracle.getClaim(claimId)).status);

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop("SIGKILL")));
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe("mlvm challenger, operated", () => {
  it("refuses a second instance of the same key and state file, in one line; a lock left by kill -9 is taken over", async () => {
    const s = await scenario((await node()).rpc);
    const first = daemon(s, CHALLENGER);
    await first.waitFor("start", (l) => l.event === "start");
    const second = daemon(s, CHALLENGER);
    expect(await second.exited).toBe(1);
    expect(second.stderrTail()).toMatch(/^mlvm challenger: .*agent-31337-0x[0-9a-f]{40}\.json is in use by another mlvm challenger \(pid \d+\)/);
    expect(second.stderrTail().split("\n")).toHaveLength(1);
    expect(second.lines.filter((l) => l.event === "start")).toEqual([]);
    // kill -9 leaves the lock file behind; its pid is dead, so the next daemon takes it over and says so.
    first.process.kill("SIGKILL");
    await first.exited;
    expect(readdirSync(s.stateDir).some((f) => f.endsWith(".lock"))).toBe(true);
    const third = daemon(s, CHALLENGER);
    const taken = await third.waitFor("the stale lock taken over", (l) => l.event === "stale-lock-taken");
    expect(taken.deadPid).toBe(first.process.pid);
    await third.waitFor("start", (l) => l.event === "start");
    expect(await third.stop()).toBe(0);
    expect(readdirSync(s.stateDir).some((f) => f.endsWith(".lock"))).toBe(false); // released on a clean stop
  }, 60_000);

  it("a key with no ETH: one warning at start naming address, balance and need, one when a lie waits for a bond; then quiet", async () => {
    const s = await scenario((await node()).rpc);
    const broke = ethers.Wallet.createRandom();
    const d = spawnDaemon({ deployments: s.deployments, modelsDir: s.modelsDir, stateDir: s.stateDir, key: broke.privateKey, name: "broke" });
    daemons.push(d);
    const first = await d.waitFor("the funds warning", (l) => l.event === "cannot-afford");
    expect(first).toMatchObject({ for: "a challenge bond and a dispute's gas", address: broke.address, balanceEth: "0.0" });
    expect(Number(first.needEth)).toBeGreaterThanOrEqual(0.5);
    await s.claim(LIAR, await s.request(3), { step: 77 });
    await d.waitFor("the lie judged", (l) => l.event === "verdict" && l.verdict === "invalid");
    const bond = await d.waitFor("the bond it cannot pay", (l) => l.event === "cannot-afford" && l.for === "a challenge bond");
    expect(bond).toMatchObject({ claimsWaiting: 1, balanceEth: "0.0" });
    // Three seconds of passes every 100 ms: nothing more is said while nothing changes.
    const said = d.lines.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(d.lines.slice(said).filter((l) => l.level !== "info")).toEqual([]);
    expect(d.lines.filter((l) => l.event === "cannot-afford")).toHaveLength(2);
  }, 60_000);

  it("the chain restarts under a running daemon: said once, the state set aside, and the daemon serves the new chain", async () => {
    const port = await freePort();
    const before = await node(port);
    const s = await scenario(before.rpc);
    const d = daemon(s, CHALLENGER);
    await d.waitFor("start", (l) => l.event === "start");
    const old = await s.claim(LIAR, await s.request(4), { step: 5 });
    await d.waitFor("the first chain's lie challenged", (l) => l.event === "challenge" && l.claim === old.toString());
    await before.stop();
    const after = await node(port);
    // The same deployer from nonce 0 on a fresh chain: the same addresses, so the deployments file still names them.
    const again = await scenario(after.rpc);
    expect(again.deployments).not.toBe(s.deployments);
    const restarted = await d.waitFor("the restart noticed", (l) => l.event === "chain-restarted", 60);
    expect(existsSync(restarted.stateSetAside as string)).toBe(true);
    daemon(again, LIAR, ["--defend-only"]); // the liar defends its lie, so the game ends by proof, not by clock
    const lie = await again.claim(LIAR, await again.request(5), { step: 9 });
    await until("the new chain's lie voided by the same daemon", 90, async () => (await status(again, lie)) === VOID);
    expect(d.lines.filter((l) => l.event === "chain-restarted")).toHaveLength(1);
    expect(d.lines.filter((l) => l.event === "pass-failed")).toEqual([]);
  }, 150_000);

  it("the RPC comes back serving another chain id: the daemon stops, exit 1, one line naming both chains", async () => {
    const port = await freePort();
    const before = await startLocalNode({ engine: "anvil", port });
    nodes.push(before);
    const s = await scenario(before.rpc);
    const d = daemon(s, CHALLENGER);
    await d.waitFor("start", (l) => l.event === "start");
    await before.stop();
    const { file, args } = anvilCommand(port);
    const other = spawn(file, args.map((a) => (a === "31337" ? "4242" : a)), { stdio: "ignore" });
    const gone = new Promise((resolve) => other.once("exit", resolve));
    try {
      await until("anvil as chain 4242", 30, () => rpcChainId(before.rpc).then((id) => id === 4242, () => false));
      expect(await d.exited).toBe(1);
      expect(d.stderrTail()).toMatch(/^mlvm challenger: the RPC now serves chain 4242, not chain 31337 of the deployments file/);
      expect(d.lines.filter((l) => l.event === "chain-changed")).toHaveLength(1);
    } finally {
      other.kill("SIGTERM");
      await gone;
    }
  }, 90_000);
});
