/**
 * What the daemon remembers between runs, in one JSON file written atomically after every change: the block
 * cursor, the requests and claims it has seen with its verdicts, every game against those claims (its own, those
 * it defends, and others' against claims it challenged too), and the transaction in flight. The chain is the
 * source of truth for every game's position; this file only says which games exist, who plays them, and where to
 * resume reading events. It is bound to one chain (genesis hash), one oracle, one key and one version of this
 * layout: a file from elsewhere, or of an older layout, is set aside, not trusted.
 */
import { existsSync, readFileSync, renameSync } from "node:fs";
import { writeJsonAtomic } from "./claim-book.js";
import type { PendingTx } from "./tx-journal.js";

/** Bumped whenever the layout below changes; v2: games of every challenger, settlements and rewards (protocol v2). */
export const AGENT_STATE_VERSION = 2;

export type Verdict = "valid" | "invalid" | "unknown-model";

export interface RequestRecord {
  modelId: string;
  initialState: string;
  leaves: string[];
}

export interface ClaimRecord {
  requestId: string;
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
}

export interface AgentStateData {
  version: typeof AGENT_STATE_VERSION;
  chainId: number;
  genesis: string;
  oracle: string;
  address: string;
  /** The last block whose events are processed. */
  cursor: number;
  requests: Record<string, RequestRecord>;
  claims: Record<string, ClaimRecord>;
  games: Record<string, GameRecord>;
  pending?: PendingTx;
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
    const data: AgentStateData = {
      version: AGENT_STATE_VERSION,
      ...id,
      cursor: fromBlock,
      requests: {},
      claims: {},
      games: {},
      creditDue: true,
      totals: { challenged: 0, won: 0, lost: 0, defended: 0, collected: 0, withdrawnWei: "0" },
    };
    const state = new AgentState(path, data);
    state.save();
    return { state, resumed: false };
  }

  save(): void {
    writeJsonAtomic(this.path, this.data);
  }
}
