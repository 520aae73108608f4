import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SPAM_ID, removeSpam, spamLine, spamState } from "../bench/state-spam.js";
import { AGENT_STATE_VERSION, AgentState } from "./agent-state.js";

const ID = { chainId: 31337, genesis: "0x" + "11".repeat(32), oracle: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", address: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" };

describe("AgentState", () => {
  it("starts fresh at the deployment's block, then resumes what was saved", () => {
    const path = join(mkdtempSync(join(tmpdir(), "mlvm-state-")), "agent.json");
    const first = AgentState.open(path, ID, 41);
    expect(first.resumed).toBe(false);
    expect(first.state.data.cursor).toBe(41);
    first.state.data.cursor = 99;
    first.state.data.games["3"] = { claimId: "4294967297", challenger: ID.address.toLowerCase(), fromBlock: 50 };
    first.state.data.txs.push({ nonce: 5, what: "choose", tags: ["choose:3:4"], to: ID.oracle, data: "0x", value: "0", gasLimit: "90000", versions: [{ hash: "0x01", maxFee: "2", tip: "1" }], signedAt: 98 });
    first.state.save();
    const again = AgentState.open(path, { ...ID, oracle: ID.oracle.toLowerCase() }, 0);
    expect(again.resumed).toBe(true);
    expect(again.state.data.cursor).toBe(99);
    expect(again.state.data.games["3"].challenger).toBe(ID.address.toLowerCase());
    expect(again.state.data.txs.map((t) => t.nonce)).toEqual([5]);
  });

  it("sets aside a file of another chain, oracle or key instead of trusting it", () => {
    for (const other of [{ genesis: "0x" + "22".repeat(32) }, { oracle: "0x0000000000000000000000000000000000000001" }, { address: "0x0000000000000000000000000000000000000002" }, { chainId: 1 }]) {
      const path = join(mkdtempSync(join(tmpdir(), "mlvm-state-")), "agent.json");
      const first = AgentState.open(path, ID, 0);
      first.state.data.cursor = 500;
      first.state.save();
      const opened = AgentState.open(path, { ...ID, ...other }, 7);
      expect(opened.resumed).toBe(false);
      expect(opened.state.data.cursor).toBe(7);
      expect(opened.setAside && existsSync(opened.setAside)).toBe(true);
      expect(JSON.parse(readFileSync(opened.setAside!, "utf8")).cursor).toBe(500);
    }
  });

  it("sets aside a file of an older layout (protocol v1's) instead of reading it as this one", () => {
    const path = join(mkdtempSync(join(tmpdir(), "mlvm-state-")), "agent.json");
    const first = AgentState.open(path, ID, 0);
    const v1 = { ...first.state.data, version: 1, games: { "0": { claimId: "4294967297", role: "challenger", fromBlock: 3 } } };
    writeFileSync(path, JSON.stringify(v1));
    const opened = AgentState.open(path, ID, 9);
    expect(opened.resumed).toBe(false);
    expect(opened.reason).toMatch(/version 1/);
    expect(opened.state.data.version).toBe(AGENT_STATE_VERSION);
    expect(opened.state.data.games).toEqual({});
    expect(JSON.parse(readFileSync(opened.setAside!, "utf8")).games["0"].role).toBe("challenger");
  });
});

describe("AgentState under request spam", () => {
  it("10,000 requests (98-leaf MNIST inputs on the held model, and 10,000-leaf ones on another): file < 1 MB, a save < 20 ms", () => {
    const r = spamState(10_000);
    console.log(spamLine(r));
    // Only the held model's requests are kept, each as the block of its event.
    expect(r.kept).toBe(9_990);
    expect(r.bytes).toBeLessThan(1_000_000);
    expect(r.saveMedianMs).toBeLessThan(20);
    const reopened = AgentState.open(r.path, SPAM_ID, 0).state.data;
    expect(reopened.requests["1"]).toBe(1_000_001);
    expect(reopened.requests["1000"]).toBeUndefined();
    removeSpam(r);
  });
});
