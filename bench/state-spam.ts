/**
 * The daemon's state file under request spam: `count` InferenceRequested events, as the oracle's ABI parses them,
 * applied by the daemon's own code (agent-events.ts) to a fresh state — 999 in 1,000 with a 98-leaf MNIST input on
 * the model it holds, the rest with a 10,000-leaf input on a model it does not hold — then saved again and again.
 * Shared by `npm run bench` ("state") and challenger/agent-state.test.ts, which asserts the bounds.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { loadArtifact } from "../evm/artifacts.js";
import { applyOracleEvent } from "../challenger/agent-events.js";
import { AgentState, type StateIdentity } from "../challenger/agent-state.js";
import { silentLogger } from "../challenger/log.js";

export const SPAM_ID: StateIdentity = { chainId: 31337, genesis: "0x" + "11".repeat(32), oracle: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", address: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" };
export const HELD_MODEL = "0x" + "ab".repeat(32);
const OTHER_MODEL = "0x" + "cd".repeat(32);

export interface StateSpam {
  requests: number;
  /** Requests the state kept (those on the held model). */
  kept: number;
  bytes: number;
  saveMedianMs: number;
  saveMaxMs: number;
  /** The state after the spam, reopened from the file. */
  path: string;
}

/**
 * One real log of each input size, parsed by the oracle's ABI; each event is that parse with its own request id and
 * model (decoding every spam log would time the ABI decoder, not the state).
 */
function requestEvents(): (id: number, modelId: string, leaves: number) => ethers.LogDescription {
  const oracle = new ethers.Interface(loadArtifact("InferenceOracle").abi);
  const parsed = new Map<number, ethers.LogDescription>();
  return (id, modelId, leaves) => {
    if (!parsed.has(leaves)) {
      const input = Array.from({ length: leaves }, (_, k) => ethers.zeroPadValue(ethers.toBeHex(k + 1), 32));
      parsed.set(leaves, oracle.parseLog(oracle.encodeEventLog("InferenceRequested", [1, HELD_MODEL, SPAM_ID.address, ethers.ZeroAddress, ethers.ZeroHash, input]))!);
    }
    const e = parsed.get(leaves)!;
    const [, , requester, callback, initialState, input] = e.args;
    return { ...e, name: e.name, args: [BigInt(id), modelId, requester, callback, initialState, input] } as unknown as ethers.LogDescription;
  };
}

/** Applies `count` spam requests (event k in block 1,000,000 + k) to a fresh state in a temporary directory, then saves it `saves` times. */
export function spamState(count: number, saves = 20): StateSpam {
  const path = join(mkdtempSync(join(tmpdir(), "mlvm-spam-")), "agent.json");
  const { state } = AgentState.open(path, SPAM_ID, 0);
  const event = requestEvents();
  const ctx = { me: SPAM_ID.address.toLowerCase(), log: silentLogger, holds: (id: string) => id === HELD_MODEL };
  for (let id = 1; id <= count; id++) {
    const other = id % 1000 === 0;
    applyOracleEvent(state.data, event(id, other ? OTHER_MODEL : HELD_MODEL, other ? 10_000 : 98), 1_000_000 + id, ctx);
  }
  const times: number[] = [];
  for (let k = 0; k < saves; k++) {
    state.save();
    times.push(state.lastSave.ms);
  }
  times.sort((a, b) => a - b);
  return { requests: count, kept: Object.keys(state.data.requests).length, bytes: readFileSync(path).length, saveMedianMs: times[times.length >> 1], saveMaxMs: times.at(-1)!, path };
}

export function spamLine(r: StateSpam): string {
  return `${r.requests.toLocaleString("en-US")} spam requests (1 in 1,000 of 10,000 leaves on a model not held): ${r.kept.toLocaleString("en-US")} kept, state file ${(r.bytes / 1000).toFixed(0)} KB, save median ${r.saveMedianMs.toFixed(2)} ms, max ${r.saveMaxMs.toFixed(2)} ms`;
}

export function removeSpam(r: StateSpam): void {
  rmSync(join(r.path, ".."), { recursive: true, force: true });
}
