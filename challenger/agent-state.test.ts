import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ethers } from "ethers";
import { loadArtifact } from "../evm/artifacts.js";
import { applyOracleEvent } from "./agent-events.js";
import { AGENT_STATE_VERSION, AgentState } from "./agent-state.js";
import { silentLogger } from "./log.js";

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
  // The daemon's path for each event: the oracle's log parsed by its ABI, applied (agent-events.ts), then saved.
  const oracle = new ethers.Interface(loadArtifact("InferenceOracle").abi);
  const held = "0x" + "ab".repeat(32);
  const other = "0x" + "cd".repeat(32);
  // One real log of each input size, parsed by the oracle's ABI; each event is that parse with its own id and
  // model (decoding 10,000 logs would time the ABI decoder, not the state).
  const parsed = new Map<number, ethers.LogDescription>();
  const requested = (id: number, modelId: string, leaves: number) => {
    if (!parsed.has(leaves)) {
      const input = Array.from({ length: leaves }, (_, k) => ethers.zeroPadValue(ethers.toBeHex(k + 1), 32));
      parsed.set(leaves, oracle.parseLog(oracle.encodeEventLog("InferenceRequested", [1, held, ID.address, ethers.ZeroAddress, ethers.ZeroHash, input]))!);
    }
    const e = parsed.get(leaves)!;
    const [, , requester, callback, initialState, input] = e.args;
    return { ...e, name: e.name, args: [BigInt(id), modelId, requester, callback, initialState, input] } as unknown as ethers.LogDescription;
  };

  it("10,000 requests (98-leaf MNIST inputs on the held model, and 10,000-leaf ones on another): file < 1 MB, a save < 20 ms", () => {
    const path = join(mkdtempSync(join(tmpdir(), "mlvm-state-")), "agent.json");
    const { state } = AgentState.open(path, ID, 0);
    const ctx = { me: ID.address.toLowerCase(), log: silentLogger, holds: (id: string) => id === held };
    for (let id = 1; id <= 10_000; id++) applyOracleEvent(state.data, requested(id, id % 1000 === 0 ? other : held, id % 1000 === 0 ? 10_000 : 98), 1_000_000 + id, ctx);
    // Only the held model's requests are kept, each as the block of its event.
    expect(Object.keys(state.data.requests)).toHaveLength(9_990);
    expect(state.data.requests["1"]).toBe(1_000_001);
    const times: number[] = [];
    for (let k = 0; k < 20; k++) {
      state.save();
      times.push(state.lastSave.ms);
    }
    const size = readFileSync(path).length;
    const median = times.sort((a, b) => a - b)[10];
    console.log(`state after 10,000 spam requests: ${size} bytes, save median ${median.toFixed(2)} ms`);
    expect(size).toBeLessThan(1_000_000);
    expect(median).toBeLessThan(20);
    expect(AgentState.open(path, ID, 0).state.data.requests["9999"]).toBe(1_009_999);
  });
});
