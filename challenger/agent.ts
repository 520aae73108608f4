/**
 * The daemon (`mlvm challenger`): one key's agent on one deployment. Each tick it
 *   1. settles the transaction it left in flight (tx-journal.ts),
 *   2. reads the oracle's events from its cursor up to head − confirmations (requests, claims, challenges,
 *      results, credits) into its state (agent-state.ts),
 *   3. re-executes every new claim with the WASM machine and judges it by its trace root,
 *   4. challenges every wrong claim by another key inside its window,
 *   5. makes one move in every game it plays whose turn is its own (reveal as defender of its own claims; choose
 *      or prove as challenger), and claims a timeout against an opponent whose clock ran out,
 *   6. finalizes its own claims whose window passed, and withdraws what it was credited.
 * A tick that sent a transaction is followed at once by another, so games advance as fast as the chain mines;
 * games interleave, one move each per tick. Any RPC failure aborts the tick; the loop retries with back-off and
 * the state (written after every change) makes a restart, even after kill -9, resume where it was.
 */
import type { ethers } from "ethers";
import { witnessArgs } from "../evm/witness-args.js";
import { MlvmError } from "../vm/errors.js";
import { fromHex, toHex } from "../vm/hash.js";
import { type AgentStateData, AgentState, type ClaimRecord, type GameRecord } from "./agent-state.js";
import { type Chain, chainNow } from "./chain.js";
import type { ClaimBook } from "./claim-book.js";
import type { ClaimView } from "./claims.js";
import type { Logger } from "./log.js";
import type { ModelShelf, ShelvedModel } from "./models.js";
import { type Position, chooseMove, disputedSteps, proveMove, revealMove } from "./moves.js";
import { DEFENDER_TURN, EMPTY_WITNESS, clockLeft, eventsIn, position } from "./protocol.js";
import { finalizeArgs, traceRequest, viewOfClaim } from "./proposer.js";
import { type RequestInfo, claimFromEvent, findRequest, requestFromEvent } from "./requests.js";
import { ContractRevertError } from "./revert.js";
import { TraceTree } from "./trace-tree.js";
import { StoppedError, TxDroppedError, TxRevertedError, TxSender } from "./tx-journal.js";

export interface AgentOptions {
  chain: Chain;
  models: ModelShelf;
  /** The state file. */
  statePath: string;
  /** This key's claim book, to defend claims it made with a planted lie (demos and tests). */
  book?: ClaimBook;
  /** Events are read only from blocks this deep (0: up to the head). */
  confirmations: number;
  /** Idle wait between ticks. */
  pollMs: number;
  log: Logger;
  /** Blocks per eth_getLogs request. */
  logChunk?: number;
  /** Challenge wrong claims by other keys (default true; false for a proposer that only defends its own). */
  challenge?: boolean;
  /** Finalize this key's own claims once their window passes (default true). */
  finalizeOwn?: boolean;
  /** How often a status line is logged while games are open. */
  statusEveryMs?: number;
}

const MAX_BACKOFF_MS = 4000;

export class Agent {
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly sender: TxSender;
  private readonly honestTrees = new Map<string, TraceTree>();
  private readonly ownViews = new Map<string, ClaimView | null>();
  private lastStatus = 0;

  private constructor(
    private readonly o: AgentOptions,
    private readonly state: AgentState,
  ) {
    this.sender = new TxSender(o.chain.wallet, { pending: () => this.s.pending, setPending: (tx) => ((this.s.pending = tx), this.state.save()) }, () => this.stopping, Math.min(o.pollMs, 100));
  }

  private get s(): AgentStateData {
    return this.state.data;
  }

  private get me(): string {
    return this.o.chain.address.toLowerCase();
  }

  static async open(o: AgentOptions): Promise<Agent> {
    const { chain } = o;
    const genesis = (await chain.provider.getBlock(0))!.hash!;
    const id = { chainId: chain.chainId, genesis, oracle: chain.deployments.contracts.InferenceOracle, address: chain.address };
    const { state, resumed, setAside } = AgentState.open(o.statePath, id, chain.deployments.fromBlock ?? 0);
    if (setAside) o.log("warn", "state-set-aside", { file: setAside, reason: "another chain, oracle or key" });
    const agent = new Agent(o, state);
    const d = state.data;
    // Claims on models it did not hold are judged again: --models may hold them now.
    for (const claim of Object.values(d.claims)) if (claim.verdict === "unknown-model") delete claim.verdict;
    o.log("info", "start", {
      address: chain.address,
      chainId: chain.chainId,
      oracle: id.oracle,
      resumed,
      cursor: d.cursor,
      games: Object.values(d.games).filter((g) => !g.result).length,
      models: o.models.list().map((m) => `${m.source} ${m.id.slice(0, 10)}…`),
      confirmations: o.confirmations,
    });
    return agent;
  }

  /** Runs until stop(): ticks, sleeping only when a tick had nothing to send. */
  async run(): Promise<void> {
    let backoff = 250;
    while (!this.stopping) {
      try {
        const busy = await this.tick();
        backoff = 250;
        if (!busy) await this.sleep(this.o.pollMs);
      } catch (error) {
        if (error instanceof StoppedError) break;
        // A typed error is ours to fix (logged as such); anything else is the node or the network. Both retry.
        if (error instanceof MlvmError) this.o.log("error", "pass-failed", { error: oneLine(error), retryInMs: backoff });
        else this.o.log("warn", "rpc-retry", { error: oneLine(error), retryInMs: backoff });
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    this.state.save();
    this.o.log("info", "stopped", { cursor: this.s.cursor, gamesOpen: this.openGames().length, ...this.s.totals });
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => (clearTimeout(timer), resolve());
    });
  }

  /** One pass; true when it sent a transaction (so the next pass should come at once). */
  async tick(): Promise<boolean> {
    const settled = await this.sender.settle();
    if (settled) {
      this.o.log("info", "recovered-tx", { hash: settled.hash, block: settled.blockNumber });
      this.handleReceipt(settled);
    }
    const head = (await this.o.chain.provider.getBlock("latest"))!;
    const safe = head.number - this.o.confirmations;
    if (safe > this.s.cursor) await this.scan(this.s.cursor + 1, safe);
    for (const [id, claim] of Object.entries(this.s.claims)) if (claim.status === "open" && !claim.verdict) await this.judge(BigInt(id), claim);
    let busy = false;
    const now = chainNow(head);
    for (const [id, claim] of Object.entries(this.s.claims)) if (!this.stopping) busy = (await this.challengeIfWrong(BigInt(id), claim, now)) || busy;
    for (const [id, game] of this.openGames()) if (!this.stopping) busy = (await this.playGame(BigInt(id), game, now)) || busy;
    for (const [id, claim] of Object.entries(this.s.claims)) if (!this.stopping) busy = (await this.finalizeOwn(BigInt(id), claim, now)) || busy;
    busy = (await this.withdrawCredit()) || busy;
    this.statusLine();
    return busy;
  }

  private openGames(): [string, GameRecord][] {
    return Object.entries(this.s.games).filter(([, g]) => !g.result);
  }

  // ——— events ———

  private async scan(from: number, to: number): Promise<void> {
    const chunk = this.o.logChunk ?? 2000;
    for (let start = from; start <= to; start += chunk) {
      const end = Math.min(to, start + chunk - 1);
      this.handleLogs(await this.o.chain.provider.getLogs({ address: this.o.chain.oracle.target as string, fromBlock: start, toBlock: end }));
      this.s.cursor = end;
      this.state.save();
    }
  }

  private handleReceipt(receipt: ethers.TransactionReceipt): void {
    this.handleLogs(receipt.logs);
    this.state.save();
  }

  /** The oracle's events among `logs`, in order, applied to the state. */
  private handleLogs(logs: readonly ethers.Log[]): void {
    const oracle = this.o.chain.oracle;
    const address = (oracle.target as string).toLowerCase();
    for (const log of logs) {
      if (log.address.toLowerCase() !== address) continue;
      const e = oracle.interface.parseLog(log);
      if (e) this.handle(e, log.blockNumber);
    }
  }

  /** Applies one oracle event to the state. Idempotent: receipts and scans may both deliver it. */
  private handle(e: ethers.LogDescription, block: number): void {
    const s = this.s;
    switch (e.name) {
      case "InferenceRequested": {
        const r = requestFromEvent(e);
        s.requests[r.requestId.toString()] ??= { modelId: r.modelId, initialState: r.initialState, leaves: r.leaves };
        break;
      }
      case "Claimed": {
        const c = claimFromEvent(e);
        const id = c.claimId.toString();
        if (s.claims[id]) break;
        s.claims[id] = { requestId: c.requestId.toString(), claimant: c.claimant.toLowerCase(), traceRoot: c.traceRoot.toLowerCase(), deadline: c.deadline, status: "open" };
        this.o.log("info", "claim-seen", { claim: id, request: c.requestId, claimant: c.claimant, own: c.claimant.toLowerCase() === this.me, deadline: c.deadline });
        break;
      }
      case "Challenged": {
        const [claimId, gameId, challenger] = e.args as unknown as [bigint, bigint, string];
        const claim = s.claims[claimId.toString()];
        const ours = challenger.toLowerCase() === this.me;
        if (!ours && claim?.claimant !== this.me) break;
        if (s.games[gameId.toString()]) break;
        s.games[gameId.toString()] = { claimId: claimId.toString(), role: ours ? "challenger" : "defender", fromBlock: block };
        if (ours && claim) claim.challengeGame = gameId.toString();
        if (ours) s.totals.challenged++;
        // Our own challenge is logged by the action that sent it; only news is logged here.
        if (!ours) this.o.log("info", "defending", { claim: claimId, game: gameId, challenger });
        break;
      }
      case "GameResolved": {
        const [claimId, gameId, defenderWon] = e.args as unknown as [bigint, bigint, boolean];
        const game = s.games[gameId.toString()];
        if (!game || game.result) break;
        game.result = (game.role === "defender") === defenderWon ? "won" : "lost";
        s.totals[game.result]++;
        this.o.log(game.result === "won" ? "info" : "error", "game-over", { game: gameId, claim: claimId, role: game.role, result: game.result });
        this.forget(claimId.toString()); // if the claim was settled while this game was still open
        break;
      }
      case "ClaimVoided":
      case "Finalized": {
        const claimId = (e.args[0] as bigint).toString();
        const claim = s.claims[claimId];
        if (!claim || claim.status !== "open") break;
        claim.status = e.name === "Finalized" ? "final" : "void";
        this.o.log("info", e.name === "Finalized" ? "claim-final" : "claim-void", { claim: claimId, request: claim.requestId, own: claim.claimant === this.me });
        this.forget(claimId);
        break;
      }
      case "Credited": {
        if ((e.args[0] as string).toLowerCase() === this.me) s.creditDue = true;
        break;
      }
    }
  }

  /** Drops a settled claim (and its request once no claim needs it) unless a game of ours still refers to it. */
  private forget(claimId: string): void {
    const s = this.s;
    const claim = s.claims[claimId];
    if (!claim || claim.status === "open" || Object.values(s.games).some((g) => g.claimId === claimId && !g.result)) return;
    delete s.claims[claimId];
    this.ownViews.delete(claimId);
    for (const [gameId, g] of Object.entries(s.games)) if (g.claimId === claimId && g.result) delete s.games[gameId];
    // A voided request may be claimed again: its input is then read back from its event (findRequest).
    if (!Object.values(s.claims).some((c) => c.requestId === claim.requestId)) {
      delete s.requests[claim.requestId];
      this.honestTrees.delete(claim.requestId);
    }
  }

  // ——— judging ———

  private async request(requestId: string): Promise<RequestInfo> {
    const r = this.s.requests[requestId];
    if (r) return { requestId: BigInt(requestId), modelId: r.modelId, requester: "", callback: "", initialState: r.initialState, leaves: r.leaves };
    const found = await findRequest(this.o.chain, BigInt(requestId));
    this.s.requests[requestId] = { modelId: found.modelId, initialState: found.initialState, leaves: found.leaves };
    return found;
  }

  private async shelvedFor(claim: ClaimRecord): Promise<{ shelved: ShelvedModel | undefined; request: RequestInfo }> {
    const request = await this.request(claim.requestId);
    return { shelved: this.o.models.get(request.modelId), request };
  }

  /** The honest trace tree of a request: one traced WASM run, cached. */
  private honestTree(shelved: ShelvedModel, request: RequestInfo): TraceTree {
    const key = request.requestId.toString();
    let tree = this.honestTrees.get(key);
    if (!tree) {
      tree = TraceTree.fromTrace(traceRequest(shelved, request));
      this.honestTrees.set(key, tree);
    }
    return tree;
  }

  private async judge(claimId: bigint, claim: ClaimRecord): Promise<void> {
    const { shelved, request } = await this.shelvedFor(claim);
    if (!shelved) {
      claim.verdict = "unknown-model";
      this.o.log("warn", "unknown-model", { claim: claimId, model: request.modelId, hint: "add the model's file to --models to judge its claims" });
    } else {
      const began = performance.now();
      // The kernel's own trace root decides; the JavaScript trace tree is built only if a game needs it.
      const trace = traceRequest(shelved, request);
      const s0 = toHex(trace.stateHash(0));
      if (s0 !== request.initialState.toLowerCase()) {
        claim.verdict = "unknown-model";
        this.o.log("error", "initial-state-mismatch", { claim: claimId, request: request.requestId, onChain: request.initialState, ours: s0 });
      } else {
        claim.verdict = toHex(trace.root) === claim.traceRoot ? "valid" : "invalid";
        this.o.log(claim.verdict === "valid" ? "info" : "warn", "verdict", { claim: claimId, request: request.requestId, verdict: claim.verdict, own: claim.claimant === this.me, ms: Math.round(performance.now() - began) });
      }
    }
    this.state.save();
  }

  // ——— acting ———

  /** Sends a transaction; a revert (someone moved first, a window closed) is logged and skipped, not fatal. */
  private async attempt(
    what: string,
    fields: Record<string, unknown>,
    send: () => Promise<ethers.TransactionReceipt>,
    done: (receipt: ethers.TransactionReceipt) => void,
  ): Promise<boolean> {
    try {
      const receipt = await send();
      done(receipt); // logged before the receipt's events, so a move reads before the game's end it causes
      this.handleReceipt(receipt);
      return true;
    } catch (error) {
      if (error instanceof ContractRevertError || error instanceof TxRevertedError || error instanceof TxDroppedError) {
        this.o.log("warn", "tx-failed", { what, ...fields, error: error.message });
        return false;
      }
      throw error;
    }
  }

  private stuck(claim: ClaimRecord, claimId: bigint, reason: string): false {
    if (claim.stuck !== reason) {
      claim.stuck = reason;
      this.state.save();
      this.o.log("error", "cannot-act", { claim: claimId, reason });
    }
    return false;
  }

  private async challengeIfWrong(claimId: bigint, claim: ClaimRecord, now: number): Promise<boolean> {
    if (this.o.challenge === false || claim.status !== "open" || claim.verdict !== "invalid" || claim.claimant === this.me || claim.challengeGame || claim.stuck) return false;
    if (now >= claim.deadline) return this.stuck(claim, claimId, "challenge window closed before the challenge");
    const { oracle, provider } = this.o.chain;
    const bond = (await oracle.challengeBond()) as bigint;
    const balance = await provider.getBalance(this.o.chain.address);
    if (balance < bond) {
      this.o.log("error", "cannot-afford", { claim: claimId, bond, balance });
      return false;
    }
    return this.attempt(
      "challenge",
      { claim: claimId },
      () => this.sender.send(oracle, "challenge", [claimId], bond),
      (receipt) => this.o.log("info", "challenge", { claim: claimId, game: eventsIn(receipt, oracle, "Challenged")[0]?.args.gameId, gas: receipt.gasUsed, windowLeft: claim.deadline - now }),
    );
  }

  private async playGame(gameId: bigint, game: GameRecord, now: number): Promise<boolean> {
    const p = await position(this.o.chain, gameId);
    if (!p.active) return false; // over: its GameResolved event settles the record
    const claim = this.s.claims[game.claimId];
    const myTurn = (p.turn === DEFENDER_TURN) === (game.role === "defender");
    if (!myTurn) {
      if (clockLeft(p, game.role === "defender" ? "challenger" : "defender", now) >= 0) return false;
      return this.attempt(
        "timeout",
        { game: gameId },
        () => this.sender.send(this.o.chain.game, "timeout", [gameId]),
        (receipt) => this.o.log("info", "timeout-claimed", { game: gameId, claim: game.claimId, gas: receipt.gasUsed }),
      );
    }
    if (!claim) return false;
    const { shelved, request } = await this.shelvedFor(claim);
    if (!shelved) return this.stuck(claim, BigInt(game.claimId), "model not in --models");
    const steps = shelved.model.meta.steps;
    const at = { game: gameId, claim: game.claimId, role: game.role, clockLeft: clockLeft(p, game.role, now) };
    const round = { ...at, round: p.depth + 1, rounds: p.traceDepth, steps: disputedSteps(p.depth, p.index, p.traceDepth, steps) };
    const contract = this.o.chain.game;

    if (game.role === "defender") {
      const view = this.ownView(BigInt(game.claimId), claim, shelved, request);
      if (!view) return this.stuck(claim, BigInt(game.claimId), "own claim not reproducible: not an honest run and not in the claim book");
      const { left, right } = revealMove(view.tree, p);
      return this.attempt(
        "reveal",
        round,
        () => this.sender.send(contract, "reveal", [gameId, toHex(left), toHex(right)]),
        (receipt) => this.o.log("info", "move", { ...round, move: "reveal", left: p.traceDepth - p.depth, gas: receipt.gasUsed }),
      );
    }

    const tree = this.honestTree(shelved, request);
    if (p.depth === p.traceDepth) {
      const proof = proveMove(tree, traceRequest(shelved, request), p);
      const witness = proof.witness ? witnessArgs(proof.witness) : EMPTY_WITNESS;
      return this.attempt(
        "prove",
        { ...at, step: p.index },
        () => this.sender.send(contract, "prove", [gameId, toHex(proof.preStateHash), proof.preStateProof.map(toHex), witness]),
        (receipt) => this.o.log("info", "move", { ...at, move: "prove", step: p.index, gas: receipt.gasUsed }),
      );
    }
    const revealed = await this.revealedChildren(gameId, game, p);
    if (!revealed) return false; // the reveal is not visible to us yet
    const pickRight = chooseMove(tree, p, fromHex(revealed.left));
    const next = disputedSteps(p.depth + 1, 2 * p.index + (pickRight ? 1 : 0), p.traceDepth, steps);
    return this.attempt(
      "choose",
      round,
      () => this.sender.send(contract, "choose", [gameId, revealed.left, revealed.right, pickRight]),
      (receipt) => this.o.log("info", "move", { ...round, move: "choose", pick: pickRight ? "right" : "left", next, left: p.traceDepth - p.depth - 1, gas: receipt.gasUsed }),
    );
  }

  /** The children the defender revealed at the game's current node (from its Revealed event). */
  private async revealedChildren(gameId: bigint, game: GameRecord, p: Position): Promise<{ left: string; right: string } | undefined> {
    const contract = this.o.chain.game;
    const logs = await contract.queryFilter(contract.filters.Revealed(gameId), game.fromBlock, "latest");
    for (const log of logs.reverse()) {
      const e = contract.interface.parseLog(log);
      if (e && Number(e.args.depth) === p.depth && Number(e.args.index) === p.index) return { left: e.args.left, right: e.args.right };
    }
    return undefined;
  }

  /** The view this key made its claim from (honest run, or the claim book's lie); null if neither matches. */
  private ownView(claimId: bigint, claim: ClaimRecord, shelved: ShelvedModel, request: RequestInfo): ClaimView | null {
    const key = claimId.toString();
    if (!this.ownViews.has(key)) this.ownViews.set(key, viewOfClaim(shelved, request, { claimId, traceRoot: claim.traceRoot }, this.o.book));
    return this.ownViews.get(key)!;
  }

  private async finalizeOwn(claimId: bigint, claim: ClaimRecord, now: number): Promise<boolean> {
    if (this.o.finalizeOwn === false || claim.claimant !== this.me || claim.status !== "open" || claim.stuck || now <= claim.deadline) return false;
    const onChain = await this.o.chain.oracle.getClaim(claimId);
    if (Number(onChain.openGames) !== 0) return false;
    const { shelved, request } = await this.shelvedFor(claim);
    if (!shelved) return this.stuck(claim, claimId, "model not in --models");
    const view = this.ownView(claimId, claim, shelved, request);
    if (!view) return this.stuck(claim, claimId, "own claim not reproducible: not an honest run and not in the claim book");
    return this.attempt(
      "finalize",
      { claim: claimId },
      () => this.sender.send(this.o.chain.oracle, "finalize", finalizeArgs(claimId, shelved, view)),
      (receipt) => this.o.log("info", "finalize", { claim: claimId, request: claim.requestId, callbackSucceeded: eventsIn(receipt, this.o.chain.oracle, "Finalized")[0]?.args.callbackSucceeded, gas: receipt.gasUsed }),
    );
  }

  private async withdrawCredit(): Promise<boolean> {
    if (!this.s.creditDue) return false;
    const oracle = this.o.chain.oracle;
    const credit = (await oracle.credit(this.o.chain.address)) as bigint;
    if (credit === 0n) {
      this.s.creditDue = false;
      this.state.save();
      return false;
    }
    return this.attempt(
      "withdraw",
      { amountWei: credit },
      () => this.sender.send(oracle, "withdraw", []),
      (receipt) => {
        this.s.creditDue = false;
        this.s.totals.withdrawnWei = (BigInt(this.s.totals.withdrawnWei) + credit).toString();
        this.o.log("info", "withdraw", { amountWei: credit, gas: receipt.gasUsed });
      },
    );
  }

  private statusLine(): void {
    const open = this.openGames();
    const every = this.o.statusEveryMs ?? 10_000;
    if (open.length === 0 || Date.now() - this.lastStatus < every) return;
    this.lastStatus = Date.now();
    const claims = Object.values(this.s.claims).filter((c) => c.status === "open");
    this.o.log("info", "status", { cursor: this.s.cursor, openClaims: claims.length, games: open.map(([id, g]) => `${id}:${g.role}`), ...this.s.totals });
  }

  /** For tests and the demo: a copy of the persisted state. */
  snapshot(): AgentStateData {
    return structuredClone(this.s);
  }
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 300);
}
