/**
 * Undoing a reorg's dropped blocks: a state built from events in blocks 10…30, rewound to block 20, must equal the
 * state built from the events up to block 20 alone; and the fork point is the newest tail block the chain still has.
 */
import { describe, expect, it } from "vitest";
import { forkPoint, undoAfter } from "./agent-reorg.js";
import type { AgentStateData } from "./agent-state.js";

const ME = "0x00000000000000000000000000000000000000aa";
const OTHER = "0x00000000000000000000000000000000000000bb";

/** The state as events up to `upTo` leave it (written by hand, as agent-events.ts applies them). */
function stateUpTo(upTo: number): AgentStateData {
  const s: AgentStateData = {
    version: 3,
    chainId: 31337,
    genesis: "0x01",
    oracle: "0x02",
    address: ME,
    cursor: upTo,
    tail: [10, 15, 20, 25, 30].filter((b) => b <= upTo).map((b) => [b, `0x${b}`]),
    requests: {},
    claims: {},
    games: {},
    txs: [],
    creditDue: false,
    totals: { challenged: 0, won: 0, lost: 0, defended: 0, collected: 0, withdrawnWei: "0" },
  };
  const at = (block: number, apply: () => void) => block <= upTo && apply();
  at(10, () => (s.requests["1"] = 10));
  at(11, () => (s.claims["4294967297"] = { requestId: "1", block: 11, claimant: OTHER, traceRoot: "0x03", deadline: 999, status: "open", verdict: "invalid" }));
  at(12, () => {
    s.games["0"] = { claimId: "4294967297", challenger: ME, fromBlock: 12 };
    s.claims["4294967297"].challengeGame = "0";
    s.totals.challenged++;
  });
  at(22, () => {
    Object.assign(s.games["0"], { defenderWon: false, endBlock: 22, counted: "won" });
    s.totals.won++;
    Object.assign(s.claims["4294967297"], { status: "void", statusBlock: 22 });
  });
  at(23, () => Object.assign(s.claims["4294967297"], { settledWinners: 1, settledBlock: 23, rewardToCheck: true }));
  at(24, () => (s.requests["2"] = 24));
  at(25, () => (s.claims["8589934593"] = { requestId: "2", block: 25, claimant: ME, traceRoot: "0x04", deadline: 999, status: "open", verdict: "valid" }));
  at(26, () => (s.games["1"] = { claimId: "8589934593", challenger: OTHER, fromBlock: 26 }));
  at(28, () => {
    Object.assign(s.games["1"], { defenderWon: true, endBlock: 28, counted: "won" });
    s.totals.won++;
  });
  at(30, () => Object.assign(s.claims["8589934593"], { status: "final", statusBlock: 30 }));
  return s;
}

describe("undoAfter", () => {
  for (const fork of [9, 11, 12, 21, 22, 23, 25, 27, 29]) {
    it(`rewinding to block ${fork} leaves what the events up to ${fork} built`, () => {
      const s = stateUpTo(30);
      undoAfter(s, fork);
      const expected = stateUpTo(fork);
      expected.tail = expected.tail.filter(([b]) => b <= fork);
      expect(s).toEqual(expected);
    });
  }

  it("a rewind past nothing the state holds changes nothing but the cursor", () => {
    const s = stateUpTo(30);
    s.cursor = 40;
    undoAfter(s, 35);
    expect({ ...s, cursor: 30 }).toEqual(stateUpTo(30));
  });
});

describe("forkPoint", () => {
  const tail: [number, string][] = [
    [10, "0xa"],
    [15, "0xb"],
    [20, "0xc"],
  ];
  it("is the newest tail block whose hash the chain still has", async () => {
    expect(await forkPoint(tail, async (b) => ({ 10: "0xa", 15: "0xb", 20: "0xX" })[b] ?? null, 0)).toBe(15);
    expect(await forkPoint(tail, async (b) => ({ 10: "0xa", 15: "0xY", 20: "0xX" })[b] ?? null, 0)).toBe(10);
  });
  it("is the floor when the reorg is deeper than the tail", async () => {
    expect(await forkPoint(tail, async () => "0xZ", 3)).toBe(3);
  });
});
