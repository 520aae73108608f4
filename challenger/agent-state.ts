/**
 * What the daemon remembers between runs, in one JSON file written atomically after every change: the block
 * cursor, the requests and claims it has seen with its verdicts, the games it plays, and the transaction in
 * flight. The chain is the source of truth for every game's position; this file only says which games are
 * ours and where to resume reading events. It is bound to one chain (genesis hash), one oracle and one key:
 * a file from elsewhere is set aside, not trusted.
 */
import { existsSync, readFileSync, renameSync } from "node:fs";
import { writeJsonAtomic } from "./claim-book.js";
import type { PendingTx } from "./tx-journal.js";

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
}

export interface GameRecord {
  claimId: string;
  role: "challenger" | "defender";
  /** The block of the Challenged event: where the game's own events start. */
  fromBlock: number;
  result?: "won" | "lost";
}

export interface AgentStateData {
  version: 1;
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
  totals: { challenged: number; won: number; lost: number; withdrawnWei: string };
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
   * The state at `path` if it belongs to `id`; otherwise a fresh one starting at `fromBlock` (a mismatching
   * file is renamed to `<path>.stale-<time>` and `setAside` names it).
   */
  static open(path: string, id: StateIdentity, fromBlock: number): { state: AgentState; resumed: boolean; setAside?: string } {
    if (existsSync(path)) {
      let data: AgentStateData | undefined;
      try {
        data = JSON.parse(readFileSync(path, "utf8")) as AgentStateData;
      } catch {
        data = undefined;
      }
      const same = data?.version === 1 && data.chainId === id.chainId && data.genesis === id.genesis && data.oracle.toLowerCase() === id.oracle.toLowerCase() && data.address.toLowerCase() === id.address.toLowerCase();
      if (same) return { state: new AgentState(path, data!), resumed: true };
      const setAside = `${path}.stale-${Date.now()}`;
      renameSync(path, setAside);
      return { ...AgentState.fresh(path, id, fromBlock), setAside };
    }
    return AgentState.fresh(path, id, fromBlock);
  }

  private static fresh(path: string, id: StateIdentity, fromBlock: number) {
    const data: AgentStateData = {
      version: 1,
      ...id,
      cursor: fromBlock,
      requests: {},
      claims: {},
      games: {},
      creditDue: true,
      totals: { challenged: 0, won: 0, lost: 0, withdrawnWei: "0" },
    };
    const state = new AgentState(path, data);
    state.save();
    return { state, resumed: false };
  }

  save(): void {
    writeJsonAtomic(this.path, this.data);
  }
}
