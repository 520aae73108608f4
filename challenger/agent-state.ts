/**
 * What the daemon remembers between runs, in one compact JSON file written atomically after every change: the
 * block cursor and the hashes of the blocks behind it (to notice a reorg), the requests and claims it has seen
 * with its verdicts, every game against those claims (its own, those it defends, and others' against claims it
 * challenged too), and the transactions in flight (tx-pipeline.ts). The chain is the source of truth for every
 * game's position; this file only says which games exist, who plays them, and where to resume reading events.
 *
 * It stays small under spam: a request is kept only if its model is held, and only as the block of its event (its
 * input is read back from that one block when a claim needs it); claims, games and requests are dropped once
 * nothing about them can matter (agent.ts forgetSettled). Each record carries the block of the event that made it
 * or changed it, so a reorg can undo exactly what the dropped blocks did (agent-reorg.ts).
 *
 * It is bound to one chain (genesis hash), one oracle, one key and one version of this layout: a file from
 * elsewhere, or of an older layout, is set aside, not trusted.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { JournaledTx } from "./tx-pipeline.js";

/**
 * Bumped whenever the layout below changes; v2: games of every challenger, settlements and rewards (protocol v2);
 * v3: event blocks on every record and the block-hash tail (reorgs), requests as blocks, a journal of many
 * transactions.
 */
export const AGENT_STATE_VERSION = 3;

/** How many (block, hash) pairs of the blocks read are kept to find where a reorg forked. */
export const TAIL_LENGTH = 64;

export type Verdict = "valid" | "invalid" | "unknown-model";

export interface ClaimRecord {
  requestId: string;
  /** The block of its Claimed event. */
  block: number;
  /** The block of the event that made it void or final. */
  statusBlock?: number;
  /** The block of its ClaimSettled event. */
  settledBlock?: number;
  claimant: string;
  traceRoot: string;
  deadline: number;
  status: "open" | "void" | "final";
  verdict?: Verdict;
  /** Our game against this claim, once challenged. */
  challengeGame?: string;
  /** Set when we could not act on it (logged once): e.g. our own claim that we cannot reproduce. */
  stuck?: string;
  /** ClaimSettled seen: every game against the void claim is over and its bond was shared by this many winners. */
  settledWinners?: number;
  /** Our game won a share of this settled claim's bond that may still be uncollected (gameOfChallenger says). */
  rewardToCheck?: boolean;
}

export interface GameRecord {
  claimId: string;
  /** The challenger's address, lowercase: this key's, or another's (we may defend, or end it once the claim is void). */
  challenger: string;
  /** The block of the Challenged event. */
  fromBlock: number;
  /** How it ended (GameResolved); absent while it is open. */
  defenderWon?: boolean;
  /** The block of its GameResolved event. */
  endBlock?: number;
  /** Which of this key's totals its end counted in (undone with it by a reorg). */
  counted?: "won" | "lost" | "defended";
}

export interface AgentStateData {
  version: typeof AGENT_STATE_VERSION;
  chainId: number;
  genesis: string;
  oracle: string;
  address: string;
  /** The last block whose events are processed. */
  cursor: number;
  /** (block, hash) of the last blocks the cursor stood at, oldest first, at most TAIL_LENGTH. */
  tail: [number, string][];
  /** Request id → the block of its InferenceRequested event, for requests on models this daemon holds. */
  requests: Record<string, number>;
  claims: Record<string, ClaimRecord>;
  games: Record<string, GameRecord>;
  /** The transaction journal: sent and not yet deep enough to forget. */
  txs: JournaledTx[];
  /** Credited events for us not yet withdrawn. */
  creditDue: boolean;
  /**
   * challenged: games we opened; won / lost: games we played as challenger or as the claimant; defended: games
   * against others' honest claims that we helped win.
   */
  totals: { challenged: number; won: number; lost: number; defended: number; collected: number; withdrawnWei: string };
}

export interface StateIdentity {
  chainId: number;
  genesis: string;
  oracle: string;
  address: string;
}

export class AgentState {
  private constructor(
    readonly path: string,
    readonly data: AgentStateData,
  ) {}

  /**
   * The state at `path` if it belongs to `id` and is of this version; otherwise a fresh one starting at
   * `fromBlock` (a mismatching file is renamed to `<path>.stale-<time>`; `setAside` names it and `reason` says why).
   */
  static open(path: string, id: StateIdentity, fromBlock: number): { state: AgentState; resumed: boolean; setAside?: string; reason?: string } {
    if (existsSync(path)) {
      let data: AgentStateData | undefined;
      try {
        data = JSON.parse(readFileSync(path, "utf8")) as AgentStateData;
      } catch {
        data = undefined;
      }
      const same = data !== undefined && data.chainId === id.chainId && data.genesis === id.genesis && data.oracle.toLowerCase() === id.oracle.toLowerCase() && data.address.toLowerCase() === id.address.toLowerCase();
      if (same && data!.version === AGENT_STATE_VERSION) return { state: new AgentState(path, data!), resumed: true };
      const reason = !data ? "unreadable" : !same ? "another chain, oracle or key" : `state version ${String(data.version)}, this daemon keeps version ${AGENT_STATE_VERSION}`;
      const setAside = `${path}.stale-${Date.now()}`;
      renameSync(path, setAside);
      return { ...AgentState.fresh(path, id, fromBlock), setAside, reason };
    }
    return AgentState.fresh(path, id, fromBlock);
  }

  private static fresh(path: string, id: StateIdentity, fromBlock: number) {
    mkdirSync(dirname(path), { recursive: true });
    const data: AgentStateData = {
      version: AGENT_STATE_VERSION,
      ...id,
      cursor: fromBlock,
      tail: [],
      requests: {},
      claims: {},
      games: {},
      txs: [],
      creditDue: true,
      totals: { challenged: 0, won: 0, lost: 0, defended: 0, collected: 0, withdrawnWei: "0" },
    };
    const state = new AgentState(path, data);
    state.save();
    return { state, resumed: false };
  }

  /** The size of the file and the time of the last save (for the log's status line and the benchmark). */
  lastSave = { bytes: 0, ms: 0 };

  /**
   * Writes the file atomically (a temporary file renamed over it: a reader or a crash sees the old file or the
   * new one), compact: one line, no indentation.
   */
  save(): void {
    const began = performance.now();
    const text = JSON.stringify(this.data);
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.path);
    this.lastSave = { bytes: text.length, ms: performance.now() - began };
  }

  /**
   * Renames this file to `<path>.stale-<time>` (kept for inspection, never read again) and starts a fresh state
   * at `fromBlock`: for a chain that restarted under the daemon (a new genesis).
   */
  setAside(id: StateIdentity, fromBlock: number): { state: AgentState; setAside: string } {
    const setAside = `${this.path}.stale-${Date.now()}`;
    renameSync(this.path, setAside);
    return { state: AgentState.fresh(this.path, id, fromBlock).state, setAside };
  }
}
