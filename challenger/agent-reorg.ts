/**
 * Reorgs: the daemon's state is built from events, and each record carries the block of the event that made it or
 * last changed it (agent-events.ts). When blocks after `fork` are dropped, `undoAfter` takes back exactly what
 * their events did — records they created are deleted, statuses they set are reopened, totals they counted are
 * uncounted — and moves the cursor back to `fork`, so the next scan reads the new branch's events from there and
 * applies them afresh. What is undone is only bookkeeping: transactions are the pipeline's business (a mined one
 * whose block is gone is broadcast again, tx-pipeline.ts).
 *
 * `forkPoint` finds where the branches part: the newest (block, hash) of the tail that the chain still has.
 */
import type { AgentStateData } from "./agent-state.js";

export interface Undone {
  requests: number;
  claims: number;
  games: number;
  /** Statuses reopened: void or final claims made open, settlements and game ends forgotten. */
  reopened: number;
}

/** Takes back every change the events of blocks after `fork` made to `s`; the cursor moves back to `fork`. */
export function undoAfter(s: AgentStateData, fork: number): Undone {
  const undone: Undone = { requests: 0, claims: 0, games: 0, reopened: 0 };
  for (const [id, block] of Object.entries(s.requests)) {
    if (block > fork) {
      delete s.requests[id];
      undone.requests++;
    }
  }
  for (const [id, g] of Object.entries(s.games)) {
    if (g.endBlock !== undefined && g.endBlock > fork) {
      if (g.counted) s.totals[g.counted]--;
      delete g.defenderWon;
      delete g.endBlock;
      delete g.counted;
      undone.reopened++;
    }
    const claim = s.claims[g.claimId];
    if (g.fromBlock > fork || (claim && claim.block > fork)) {
      if (claim?.challengeGame === id) {
        delete claim.challengeGame;
        s.totals.challenged--;
      }
      delete s.games[id];
      undone.games++;
    }
  }
  for (const [id, c] of Object.entries(s.claims)) {
    if (c.block > fork) {
      delete s.claims[id];
      undone.claims++;
      continue;
    }
    if (c.statusBlock !== undefined && c.statusBlock > fork) {
      c.status = "open";
      delete c.statusBlock;
      undone.reopened++;
    }
    if (c.settledBlock !== undefined && c.settledBlock > fork) {
      delete c.settledWinners;
      delete c.settledBlock;
      delete c.rewardToCheck;
      undone.reopened++;
    }
  }
  s.cursor = Math.min(s.cursor, fork);
  s.tail = s.tail.filter(([block]) => block <= fork);
  return undone;
}

/**
 * The newest block of `tail` whose hash the chain still has (`hashAt` reads the chain's hash at a height, or null
 * past its head), or `floor` if none does: the reorg is deeper than the tail, so everything after `floor` is read
 * again.
 */
export async function forkPoint(tail: readonly [number, string][], hashAt: (block: number) => Promise<string | null>, floor: number): Promise<number> {
  for (let k = tail.length - 1; k >= 0; k--) {
    const [block, hash] = tail[k];
    if ((await hashAt(block)) === hash) return block;
  }
  return floor;
}
