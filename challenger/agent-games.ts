/**
 * The daemon's moves in every game, one transaction per pass: it reads the position of every open game it knows
 * (once per block), decides each move (agent-planner.ts), builds it from the trees it holds — a reveal once per
 * (node, levels) however many games wait on it —, estimates each alone, and sends the most urgent ones, up to the
 * gas budget, as one BisectionGame.multicall (agent-batch.ts) through the key's pipeline, without waiting for it to
 * be mined: each move carries a tag ("reveal:<node>:<levels>", "choose:<game>:<depth>", …) and a move whose tag is
 * in flight is not planned again. Each landed move gets its own log line (game, claim, role, round, disputed
 * steps, clock left at inclusion); each inner call that failed, a warning; and the batch a line with its block and
 * number of moves, so moves per block can be read from the log.
 */
import type { ethers } from "ethers";
import type { Trace } from "../interpreter/wasm/machine.js";
import { toHex } from "../vm/hash.js";
import { batchGasLimit, estimateEach, failedCalls, packUrgentFirst } from "./agent-batch.js";
import { type Intent, type Role, intentFor, roleOf } from "./agent-planner.js";
import type { Call, OnMined } from "./agent-sender.js";
import type { AgentStateData, ClaimRecord, GameRecord } from "./agent-state.js";
import type { Chain } from "./chain.js";
import type { Logger, LogFields } from "./log.js";
import { childIndex, chooseMove, disputedSteps, revealMove, roundAt, roundsOf } from "./moves.js";
import { type GameView, clockLeft, position, proveArgs, revealedNodes } from "./protocol.js";
import type { TraceTree } from "./trace-tree.js";

/** What the daemon holds for a claim's request: built lazily, since a tree costs tens of milliseconds. */
export interface ClaimTrees {
  steps: number;
  /** The honest run's trace tree. */
  honest(): TraceTree;
  /** The tree this key's own claim was made from (the honest run, or the claim book's lie); null if neither. */
  own(): TraceTree | null;
  /** A fresh traced run, for a one-step proof (valid until the model's machine runs again). */
  trace(): Trace;
}

export interface DeskContext {
  chain: Chain;
  /** This key's address, lowercase. */
  me: string;
  state(): AgentStateData;
  log: Logger;
  /** Hands a checked call to the key's pipeline; false if it could not take it (full, or refused for funds). */
  submit(call: Call, what: string, tags: string[], head: ethers.Block, onMined: OnMined): Promise<boolean>;
  /** The tags of the moves in flight. */
  busy(): Set<string>;
  /** Whether the pipeline can take another transaction. */
  hasRoom(): boolean;
  gasBudget: bigint;
  splitBits: number;
  /** The trees of a claim's request; undefined when the model is not held (the agent reports it). */
  trees(claimId: string): Promise<ClaimTrees | undefined>;
  /** Reports once that a claim cannot be acted on. */
  stuck(claimId: string, reason: string): void;
}

/** What a move does, as the pipeline's tag: two moves with one tag are the same move (a reveal serves many games). */
export function moveTag(intent: Intent, gameId: string, p: GameView): string {
  switch (intent.move) {
    case "reveal":
      return `reveal:${p.node}:${p.levels}`;
    case "choose":
      return `choose:${gameId}:${p.depth}`;
    default:
      return `${intent.move}:${gameId}`;
  }
}

interface Move {
  intent: Intent;
  /** The games it serves: one, or every game waiting on the same reveal (the first is the most urgent). */
  games: string[];
  claimId: string;
  role: Role;
  own: boolean;
  view: GameView;
  data: string;
  urgency: number;
  /** Fields of its log line besides the common ones. */
  fields: LogFields;
}

type Estimated = Move & { gas: bigint };

export class GameDesk {
  /** Each open game's position, kept while no event of the game contract says it changed. */
  private readonly views = new Map<string, GameView>();
  /** The last block whose game-contract events were applied to `views`. */
  private seenBlock = -1;
  /** Reveals never change once made: (node, levels) → the revealed nodes. */
  private readonly revealed = new Map<string, string[]>();
  /** Dropped moves already reported (a move that cannot be made is usually the same one pass after pass). */
  private readonly reported = new Set<string>();

  constructor(private readonly c: DeskContext) {}

  /** Every open game we know of, with its claim. */
  private openGames(): [string, GameRecord, ClaimRecord][] {
    const s = this.c.state();
    const open: [string, GameRecord, ClaimRecord][] = [];
    for (const [id, g] of Object.entries(s.games)) if (g.defenderWon === undefined && s.claims[g.claimId]) open.push([id, g, s.claims[g.claimId]]);
    return open;
  }

  /**
   * The positions of `ids` as of the head block. A position changes only by an event of the game contract — Chosen,
   * Proved or TimedOut of that game, or Revealed of its disputed node — (time moves its clocks, but a GameView holds
   * absolute times): so each new block costs one eth_getLogs, and only the games it names are read again.
   */
  private async positions(head: ethers.Block, ids: string[]): Promise<Map<string, GameView>> {
    const { chain } = this.c;
    if (head.number > this.seenBlock) {
      if (this.views.size > 0 && this.seenBlock >= 0 && head.number - this.seenBlock <= 1000) {
        const game = chain.game;
        for (const log of await chain.logs.all({ address: game.target as string }, this.seenBlock + 1, head.number)) {
          const e = game.interface.parseLog(log);
          if (!e) continue;
          if (e.name === "Revealed") {
            const node = (e.args.node as string).toLowerCase();
            for (const [id, v] of this.views) if (v.node === node) this.views.delete(id);
          } else if (e.name === "Chosen" || e.name === "Proved" || e.name === "TimedOut") this.views.delete((e.args.gameId as bigint).toString());
        }
      } else this.views.clear();
      this.seenBlock = head.number;
    }
    const wanted = new Set(ids);
    for (const id of this.views.keys()) if (!wanted.has(id)) this.views.delete(id);
    const missing = ids.filter((id) => !this.views.has(id));
    const read = await Promise.all(missing.map((id) => position(chain, BigInt(id))));
    missing.forEach((id, k) => this.views.set(id, read[k]));
    return this.views;
  }

  /** One pass: every move due and not in flight, in one multicall. True when it sent one. */
  async play(head: ethers.Block, now: number): Promise<boolean> {
    const open = this.openGames();
    if (open.length === 0 || !this.c.hasRoom()) return false;
    const began = performance.now();
    const views = await this.positions(head, open.map(([id]) => id));
    const read = performance.now();
    const busy = this.c.busy();
    // Which move each game needs; games waiting on the same reveal share one.
    const jobs: { id: string; g: GameRecord; claim: ClaimRecord; p: GameView; role: Role; intent: Intent; games: string[] }[] = [];
    const reveals = new Map<string, (typeof jobs)[number]>();
    for (const [id, g, claim] of open) {
      const p = views.get(id)!;
      const role = roleOf(g, claim, this.c.me);
      const intent = intentFor(p, { role, claimVoid: claim.status === "void", settleStake: claim.challengeGame !== undefined, honestDefender: claim.verdict === "valid" }, now);
      if (!intent || busy.has(moveTag(intent, id, p))) continue;
      const key = `${p.node}:${p.levels}`;
      const shared = intent.move === "reveal" ? reveals.get(key) : undefined;
      if (!shared) {
        const job = { id, g, claim, p, role, intent, games: [id] };
        jobs.push(job);
        if (intent.move === "reveal") reveals.set(key, job);
      } else if (intent.urgency < shared.intent.urgency) {
        // The most urgent game leads: its clock is the one the reveal must beat (and the one logged).
        shared.games.unshift(id);
        Object.assign(shared, { id, g, claim, p, role, intent });
      } else shared.games.push(id);
    }
    // Built together: the reads they need (revealed nodes) go out as one JSON-RPC batch.
    const built = await Promise.all(jobs.map(async (j) => {
      const move = await this.build(j.id, j.g, j.claim, j.p, j.role, j.intent);
      if (move) move.games = j.games;
      return move;
    }));
    const moves = built.filter((m): m is Move => m !== undefined);
    if (moves.length === 0) return false;
    return this.send(moves, head, { began, readMs: Math.round(read - began), buildMs: Math.round(performance.now() - read) });
  }

  /** The call that makes `intent` in game `id`, from the trees we hold; undefined if it cannot be made yet. */
  private async build(id: string, g: GameRecord, claim: ClaimRecord, p: GameView, role: Role, intent: Intent): Promise<Move | undefined> {
    const game = this.c.chain.game;
    const own = claim.claimant === this.c.me;
    const base = { intent, games: [id], claimId: g.claimId, role, own, view: p, urgency: intent.urgency };
    if (intent.move === "timeout") return { ...base, data: game.interface.encodeFunctionData("timeout", [BigInt(id)]), fields: { why: intent.why } };
    const trees = await this.c.trees(g.claimId);
    if (!trees) return undefined;
    const round = { round: roundAt(p.depth, this.c.splitBits), rounds: roundsOf(p.traceDepth, this.c.splitBits), steps: disputedSteps(p.depth, p.index, p.traceDepth, trees.steps) };
    if (intent.move === "reveal") {
      // Our own claim is answered from the tree it was made from (the claim book's, if a lie); any other claim
      // we defend is one we judged valid, so the honest run's tree is the claim's.
      const tree = claim.verdict === "valid" ? trees.honest() : own ? trees.own() : null;
      if (!tree) {
        this.c.stuck(g.claimId, "own claim not reproducible: not an honest run and not in the claim book");
        return undefined;
      }
      const r = revealMove(tree, p);
      if (toHex(r.node) !== p.node) {
        this.c.stuck(g.claimId, `our tree of the claim does not hold the disputed node of game ${id}`);
        return undefined;
      }
      return { ...base, data: game.interface.encodeFunctionData("reveal", [p.node, r.levels, r.nodes.map(toHex)]), fields: { ...round, levels: r.levels } };
    }
    if (intent.move === "choose") {
      const key = `${p.node}:${p.levels}`;
      let nodes = this.revealed.get(key);
      if (!nodes) {
        nodes = await revealedNodes(this.c.chain, p.node, p.levels);
        if (!nodes) return undefined; // its Revealed event is not visible to us yet
        if (this.revealed.size > 10_000) this.revealed.clear(); // a cache: a long run must not grow it forever
        this.revealed.set(key, nodes);
      }
      const pick = chooseMove(trees.honest(), p, nodes);
      const next = disputedSteps(p.depth + p.levels, childIndex(p, pick), p.traceDepth, trees.steps);
      return { ...base, data: game.interface.encodeFunctionData("choose", [BigInt(id), nodes, pick]), fields: { ...round, pick, next, left: round.rounds - round.round } };
    }
    // prove: the challenger's, or the defender's of an honest claim (the step from the agreed state checks out).
    const args = proveArgs(trees.honest(), trees.trace(), p);
    return { ...base, data: game.interface.encodeFunctionData("prove", [BigInt(id), ...args]), fields: { step: p.index } };
  }

  /**
   * Estimates, packs and submits `moves`; `timing` is how long reading the positions and building the moves took.
   * Its log lines are written when it is mined (a later pass).
   */
  private async send(moves: Move[], head: ethers.Block, timing: { began: number; readMs: number; buildMs: number }): Promise<boolean> {
    const { chain } = this.c;
    const to = chain.game.target as string;
    const estimating = performance.now();
    const estimates = await estimateEach(chain.provider, chain.address, moves.map((m) => ({ to, data: m.data })));
    const estimateMs = Math.round(performance.now() - estimating);
    const ready: Estimated[] = [];
    moves.forEach((m, k) => {
      const e = estimates[k];
      if ("gas" in e) ready.push({ ...m, gas: e.gas });
      else this.reportOnce(`${m.intent.move}:${m.games[0]}:${m.view.depth}:${e.error}`, "move-dropped", { ...this.common(m), reason: e.error });
    });
    if (ready.length === 0) return false;
    // As many batches as the pipeline has room for, most urgent first: the moves a round needs beyond one
    // budget go out now, in flight together, not after another pass re-estimates them.
    let rest = ready;
    let sent = false;
    while (rest.length > 0 && this.c.hasRoom()) {
      const { batch, deferred } = packUrgentFirst(rest, this.c.gasBudget);
      if (!(await this.submitBatch(batch, deferred.length, head, { ...timing, estimateMs }))) break;
      sent = true;
      rest = deferred;
    }
    return sent;
  }

  /** Submits one multicall; its log lines are written when it is mined (a later pass). */
  private async submitBatch(batch: Estimated[], deferred: number, head: ethers.Block, timing: { began: number; readMs: number; buildMs: number; estimateMs: number }): Promise<boolean> {
    const { chain, log } = this.c;
    const gasLimit = batchGasLimit(batch.map((m) => m.gas));
    const sending = performance.now();
    const call = { to: chain.game.target as string, data: chain.game.interface.encodeFunctionData("multicall", [batch.map((m) => m.data)]), gasLimit };
    const tags = batch.map((m) => moveTag(m.intent, m.games[0], m.view));
    return this.c.submit(call, `multicall of ${batch.length} moves`, tags, head, async (receipt) => {
      const failed = failedCalls(receipt, chain.game);
      const blockTime = (await chain.provider.getBlock(receipt.blockNumber))!.timestamp;
      const count = (move: string) => batch.filter((m, k) => m.intent.move === move && !failed.has(k)).length;
      batch.forEach((m, k) => {
        const reason = failed.get(k);
        if (reason !== undefined) log("warn", "move-failed", { ...this.common(m), block: receipt.blockNumber, reason });
        else this.logMove(m, receipt.blockNumber, blockTime);
      });
      log("info", "batch", {
        block: receipt.blockNumber,
        moves: batch.length - failed.size,
        failed: failed.size,
        reveals: count("reveal"),
        chooses: count("choose"),
        proves: count("prove"),
        timeouts: count("timeout"),
        deferred,
        gasUsed: receipt.gasUsed,
        gasLimit,
        // Where the time went: reading positions, building the moves, estimating them, and until it was mined.
        ms: { read: timing.readMs, build: timing.buildMs, estimate: timing.estimateMs, mined: Math.round(performance.now() - sending), pass: Math.round(performance.now() - timing.began) },
      });
    });
  }

  private common(m: Move): LogFields {
    return { game: m.games[0], ...(m.games.length > 1 ? { games: m.games } : {}), claim: m.claimId, role: m.role, ...(m.role === "defender" ? { own: m.own } : {}), move: m.intent.move };
  }

  private logMove(m: Estimated, block: number, blockTime: number): void {
    const fields = { ...this.common(m), ...m.fields, block, gas: m.gas };
    if (m.intent.move === "timeout") return this.c.log("info", "timeout-claimed", fields);
    // The clock the move stopped, as it stood in the block that included it.
    const clock = m.role === "challenger" ? "challenger" : "defender";
    this.c.log("info", "move", { ...fields, clockLeft: clockLeft(m.view, clock, blockTime) });
  }

  private reportOnce(key: string, event: string, fields: LogFields): void {
    if (this.reported.has(key)) return;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.add(key);
    this.c.log("warn", event, fields);
  }
}
