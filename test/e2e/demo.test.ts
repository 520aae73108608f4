/**
 * `mlvm demo` as a user runs it: one command, its own Hardhat node, the whole story. The JSON summary must tell
 * a dispute that went to a one-step proof in 12 rounds, a fraudulent proposer that lost its bond, a challenger
 * that gained it, and a consumer that received the VM's digits.
 */
import { ethers } from "ethers";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import type { DemoSummary } from "../../demo/scenario.js";
import { decodeOutput } from "../../interpreter/run.js";
import { mnist, mnistInput } from "../helpers/models.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";

describe("mlvm demo", () => {
  it("--json: a fraud caught by bisection down to the lying step, bonds moved, both digits delivered", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["demo", "--json", "--lie-at-step", "2222", "--digits", "3,4"], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const s = JSON.parse(out.join("\n")) as DemoSummary;
    expect(s.lieAtStep).toBe(2222);
    expect(s.rounds).toBe(12);
    expect(s.moves.map((m) => m.move)).toEqual(["challenge", ...Array.from({ length: 12 }, () => ["reveal", "choose"]).flat(), "prove"]);
    // Every round halves the disputed range, which ends at the first wrong state.
    const chooses = s.moves.filter((m) => m.move === "choose");
    expect(chooses[0].steps).toEqual([0, mnist().meta.steps]);
    expect(chooses.at(-1)!.steps![0]).toBeLessThanOrEqual(2222);
    expect(chooses.at(-1)!.steps![1]).toBeGreaterThanOrEqual(2222);
    expect(s.disputeGas).toBe(s.moves.reduce((sum, m) => sum + m.gas, 0));
    expect(s.disputeWallMs).toBeGreaterThan(0);
    // The fraud lost its claim bond (and paid gas); the challenger won it (minus gas).
    expect(BigInt(s.balanceChange.fraud)).toBeLessThan(-ethers.parseEther("1"));
    expect(BigInt(s.balanceChange.challenger)).toBeGreaterThan(ethers.parseEther("0.99"));
    expect(BigInt(s.balanceChange.honest)).toBeLessThan(0n);
    expect(BigInt(s.balanceChange.honest)).toBeGreaterThan(-ethers.parseEther("0.01"));
    const machine = new WasmMachine(mnist());
    expect(s.results.map((r) => r.digit)).toEqual([3, 4]);
    for (const r of s.results) expect(r.delivered).toBe(decodeOutput(mnist().program, machine.run(mnistInput(r.digit))).prediction);
  }, 120_000);

  it("a bad option is one line and exit 2, before any chain starts", async () => {
    const err: string[] = [];
    expect(await main(["demo", "--digits", "3"], { out: () => {}, err: (l) => err.push(l) })).toBe(2);
    expect(err).toEqual(['mlvm demo: --digits must be two MNIST test indices A,B in 0…9999, got "3"']);
  });
});
