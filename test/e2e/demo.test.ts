/**
 * `mlvm demo` as a user runs it: one command, its own Hardhat node, the whole story. The JSON summary must tell
 * a dispute that went to a one-step proof in ⌈12 / m⌉ = 3 rounds of 16 nodes each, a fraudulent proposer that
 * lost its bond (half burned, half to the challenger), a challenger that gained its share, and a consumer that
 * received the VM's digits. SIGTERM or SIGINT to a running `mlvm demo` process stops its chain with it: one line,
 * exit 1, the chain's process gone and its port closed.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import type { DemoSummary } from "../../demo/scenario.js";
import { decodeOutput } from "../../interpreter/run.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { listening, running, spawnMlvm } from "./processes.js";

describe("mlvm demo", () => {
  it("--json: a fraud caught by k-ary dissection down to the lying step, the bond settled, both digits delivered", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["demo", "--json", "--lie-at-step", "2222", "--digits", "3,4"], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const s = JSON.parse(out.join("\n")) as DemoSummary;
    expect(s.lieAtStep).toBe(2222);
    expect(s.splitBits).toBe(4);
    expect(s.rounds).toBe(3);
    expect(s.moves.map((m) => m.move)).toEqual(["challenge", ...Array.from({ length: 3 }, () => ["reveal", "choose"]).flat(), "prove"]);
    // Each round reveals the disputed node's 16 descendants 4 levels down; the choice keeps 1/16 of the steps,
    // always the part holding the first wrong state.
    const reveals = s.moves.filter((m) => m.move === "reveal");
    const chooses = s.moves.filter((m) => m.move === "choose");
    expect(reveals.map((m) => [m.round, m.levels, m.nodes, m.by])).toEqual([1, 2, 3].map((r) => [r, 4, 16, "fraudulent proposer"]));
    expect(chooses.map((m) => m.round)).toEqual([1, 2, 3]);
    expect(chooses[0].steps).toEqual([0, mnist().meta.steps]);
    expect(chooses.map((m) => m.next![1] - m.next![0] + 1)).toEqual([256, 16, 1]);
    for (const [k, m] of chooses.entries()) {
      expect(m.by).toBe("challenger");
      expect(m.pick).toBeGreaterThanOrEqual(0);
      expect(m.pick).toBeLessThan(16);
      expect(m.next![0]).toBeLessThanOrEqual(2222);
      expect(m.next![1]).toBeGreaterThanOrEqual(2222);
      expect(m.next![0]).toBeGreaterThanOrEqual(m.steps![0]);
      expect(m.next![1]).toBeLessThanOrEqual(m.steps![1]);
      if (k > 0) expect(m.steps).toEqual(chooses[k - 1].next);
    }
    expect(chooses.at(-1)!.next).toEqual([2222, 2222]);
    expect(s.moves.at(-1)).toMatchObject({ move: "prove", step: 2222, defenderWon: false, by: "challenger" });
    for (const m of s.moves) expect(m.gas).toBeGreaterThan(21_000);
    expect(s.disputeGas).toBe(s.moves.reduce((sum, m) => sum + m.gas, 0));
    expect(s.disputeWallMs).toBeGreaterThan(0);
    // The claim bond is settled: half to the one winning challenger (with its own bond back), half burned.
    const half = ethers.parseEther("0.5").toString();
    expect(s.settlement).toEqual({ winners: 1, shareWei: half, burnedWei: half, challengeBondWei: half });
    expect(s.burned).toBe(half);
    // The fraud lost its claim bond (and paid gas); the challenger won its share (minus gas).
    expect(BigInt(s.balanceChange.fraud)).toBeLessThan(-ethers.parseEther("1"));
    expect(BigInt(s.balanceChange.challenger)).toBeGreaterThan(ethers.parseEther("0.49"));
    expect(BigInt(s.balanceChange.challenger)).toBeLessThan(ethers.parseEther("0.5"));
    expect(BigInt(s.balanceChange.honest)).toBeLessThan(0n);
    expect(BigInt(s.balanceChange.honest)).toBeGreaterThan(-ethers.parseEther("0.01"));
    const machine = new WasmMachine(mnist());
    expect(s.results.map((r) => r.digit)).toEqual([3, 4]);
    for (const r of s.results) expect(r.delivered).toBe(decodeOutput(mnist().program, machine.run(mnistInput(r.digit))).prediction);
  }, 120_000);

  it.each(["SIGTERM", "SIGINT"] as const)("%s mid-demo stops its chain: one line, exit 1, the chain's process gone, its port closed", async (signal) => {
    const run = spawnMlvm(["demo", "--lie-at-step", "100"]);
    try {
      const [, port] = await run.waitForOut(/^local chain 31337 at http:\/\/127\.0\.0\.1:(\d+): contracts deployed/);
      const chain = run.child(/hardhat node --hostname 127\.0\.0\.1 --port /);
      expect(chain).toBeDefined();
      expect(running(chain!)).toBe(true);
      run.process.kill(signal);
      expect(await run.exited).toEqual({ code: 1, signal: null });
      expect(run.err).toEqual([`mlvm demo: interrupted by ${signal}; the local chain is stopped`]);
      expect(running(chain!)).toBe(false);
      expect(await listening(Number(port))).toBe(false);
    } finally {
      run.process.kill("SIGKILL");
    }
  }, 120_000);

  it("a bad option is one line and exit 2, before any chain starts", async () => {
    const err: string[] = [];
    expect(await main(["demo", "--digits", "3"], { out: () => {}, err: (l) => err.push(l) })).toBe(2);
    expect(err).toEqual(['mlvm demo: --digits must be two MNIST test indices A,B in 0…9999, got "3"']);
  });
});
