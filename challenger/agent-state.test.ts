import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
    first.state.data.pending = { hash: "0x01", raw: "0x02", nonce: 5, what: "choose" };
    first.state.save();
    const again = AgentState.open(path, { ...ID, oracle: ID.oracle.toLowerCase() }, 0);
    expect(again.resumed).toBe(true);
    expect(again.state.data.cursor).toBe(99);
    expect(again.state.data.games["3"].challenger).toBe(ID.address.toLowerCase());
    expect(again.state.data.pending?.nonce).toBe(5);
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
