/**
 * The daemon (`mlvm challenger`): one key's agent on one deployment. Each pass it
 *   1. settles the transaction it left in flight (tx-journal.ts),
 *   2. reads the oracle's events from its cursor up to head − confirmations (requests, claims, every challenge of
 *      every claim it knows, results, settlements, credits) into its state (agent-events.ts, agent-state.ts),
 *   3. re-executes every new claim with the WASM machine and judges it by its trace root,
 *   4. challenges every wrong claim by another key inside its window, all in one challengeMany transaction
 *      (affordable ones first, earliest deadline first),
 *   5. makes every move due in every game it has a part in — choose and prove as challenger; reveal for its own
 *      claims and for every claim it judged valid (defender moves are anyone's); timeouts against clocks run out
 *      and, once a claim is void, in every game against it that it has a stake in — as one multicall
 *      (agent-games.ts, agent-planner.ts, agent-batch.ts),
 *   6. finalizes its own claims whose window passed, collects its share of settled void claims, and withdraws.
 * A pass that sent a transaction is followed at once by another, so games advance as fast as the chain mines.
 * Any RPC failure aborts the pass; the loop retries with back-off and the state (written after every change)
 * makes a restart, even after kill -9, resume where it was.
 */
import type { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { toHex } from "../vm/hash.js";
import { DEFAULT_GAS_BUDGET, batchGasLimit, estimateEach, reasonOfBytes } from "./agent-batch.js";
import { type ClaimTrees, GameDesk } from "./agent-games.js";
import { applyOracleEvent } from "./agent-events.js";
import { roleOf } from "./agent-planner.js";
import { type AgentStateData, AgentState, type ClaimRecord } from "./agent-state.js";
import { type Chain, chainNow } from "./chain.js";
import type { ClaimBook } from "./claim-book.js";
import type { ClaimView } from "./claims.js";
import type { Logger } from "./log.js";
import type { ModelShelf, ShelvedModel } from "./models.js";
import { eventsIn } from "./protocol.js";
import { FINALIZE_GAS, finalizeArgs, traceRequest, viewOfClaim } from "./proposer.js";
import { type RequestInfo, findRequest } from "./requests.js";
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
  /** Idle wait between passes. */
  pollMs: number;
  log: Logger;
  /** Blocks per eth_getLogs request. */
  logChunk?: number;
  /** Challenge wrong claims by other keys (default true; false for a proposer that only defends). */
  challenge?: boolean;
  /** Finalize this key's own claims once their window passes (default true). */
  finalizeOwn?: boolean;
  /** How often a status line is logged while games are open. */
  statusEveryMs?: number;
  /** The most gas one batch (of moves, or of challenges) may use by its calls' estimates (default 12,000,000). */
  gasBudget?: bigint;
}

const MAX_BACKOFF_MS = 4000;

export class Agent {
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly sender: TxSender;
  private readonly desk: GameDesk;
  private readonly honestTrees = new Map<string, TraceTree>();
  private readonly ownViews = new Map<string, ClaimView | null>();
  private readonly unaffordable = new Set<string>();
  private readonly reported = new Set<string>();
  private bond: bigint | undefined;
  /** The time of the block the cursor is at (read once per cursor). */
  private cursorTime: { block: number; time: number } | undefined;
  /** The balance at which the last challenge could not be paid for. */
  private poorAt: bigint | undefined;
  private lastStatus = 0;
  /** Blocks per eth_getLogs: --log-chunk, halved whenever the provider refuses a range (scan()). */
  private logChunk: number;

  private constructor(
    private readonly o: AgentOptions,
    private readonly state: AgentState,
    splitBits: number,
  ) {
    this.logChunk = o.logChunk ?? 2000;
    this.sender = new TxSender(o.chain.wallet, { pending: () => this.s.pending, setPending: (tx) => ((this.s.pending = tx), this.state.save()) }, () => this.stopping, Math.min(o.pollMs, 100));
    this.desk = new GameDesk({
      chain: o.chain,
      me: this.me,
      state: () => this.s,
      log: o.log,
      sender: this.sender,
      gasBudget: o.gasBudget ?? DEFAULT_GAS_BUDGET,
      splitBits,
      trees: (claimId) => this.treesFor(claimId),
      stuck: (claimId, reason) => this.stuck(this.s.claims[claimId], BigInt(claimId), reason),
      afterReceipt: (receipt) => this.handleReceipt(receipt),
    });
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
    const { state, resumed, setAside, reason } = AgentState.open(o.statePath, id, chain.deployments.fromBlock ?? 0);
    if (setAside) o.log("warn", "state-set-aside", { file: setAside, reason });
    const agent = new Agent(o, state, Number(await chain.game.splitBits()));
    const d = state.data;
    // Claims on models it did not hold are judged again: --models may hold them now.
    for (const claim of Object.values(d.claims)) if (claim.verdict === "unknown-model") delete claim.verdict;
    o.log("info", "start", {
      address: chain.address,
      chainId: chain.chainId,
      oracle: id.oracle,
      resumed,
      cursor: d.cursor,
      games: Object.values(d.games).filter((g) => g.defenderWon === undefined).length,
      models: o.models.list().map((m) => `${m.source} ${m.id.slice(0, 10)}…`),
      confirmations: o.confirmations,
      gasBudget: o.gasBudget ?? DEFAULT_GAS_BUDGET,
    });
    return agent;
  }

  /** Runs until stop(): passes, sleeping only when a pass had nothing to send. */
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
    this.o.log("info", "stopped", { cursor: this.s.cursor, gamesOpen: this.openGameCount(), ...this.s.totals });
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
    const { provider } = this.o.chain;
    let head = (await provider.getBlock("latest"))!;
    const safe = head.number - this.o.confirmations;
    if (safe > this.s.cursor) await this.scan(this.s.cursor + 1, safe);
    await this.judgeNew();
    let busy = false;
    if (!this.stopping && (await this.challengeWrongClaims(chainNow(head)))) {
      busy = true;
      head = (await provider.getBlock("latest"))!; // our challenges took a block: plan the moves at the new one
    }
    if (!this.stopping) busy = (await this.desk.play(head, chainNow(head))) || busy;
    for (const [id, claim] of Object.entries(this.s.claims)) if (!this.stopping) busy = (await this.finalizeOwn(BigInt(id), claim, chainNow(head))) || busy;
    if (!this.stopping) busy = (await this.collectRewards()) || busy;
    if (!this.stopping) busy = (await this.withdrawCredit()) || busy;
    await this.forgetSettled();
    if (!busy && !this.stopping) await this.warmTrees(150);
    this.statusLine();
    return busy;
  }

  /**
   * Builds, within `budgetMs`, the honest trees that open games will need, while there is nothing to send: a
   * flood of games would otherwise wait ~50 ms per tree at its first choice.
   */
  private async warmTrees(budgetMs: number): Promise<void> {
    const end = performance.now() + budgetMs;
    for (const g of Object.values(this.s.games)) {
      if (performance.now() > end) return;
      const claim = this.s.claims[g.claimId];
      if (g.defenderWon !== undefined || !claim || claim.status !== "open" || this.honestTrees.has(claim.requestId)) continue;
      const role = roleOf(g, claim, this.me);
      if (role === "bystander" || (role === "defender" && claim.verdict !== "valid")) continue;
      const { shelved, request } = await this.shelvedFor(claim);
      if (shelved) this.honestTree(shelved, request);
    }
  }

  private openGameCount(): number {
    return Object.values(this.s.games).filter((g) => g.defenderWon === undefined).length;
  }

  // ——— events ———

  /**
   * Reads the oracle's events in [from, to], `chunk` blocks per eth_getLogs. A provider that refuses a range as too
   * large (hosted RPCs cap it: 10,000, 2,000, 1,024 blocks) gets half of it next, said in one line; the smaller
   * chunk is kept for later passes. Any other failure aborts the pass as before (retried with back-off).
   */
  private async scan(from: number, to: number): Promise<void> {
    let start = from;
    while (start <= to) {
      const end = Math.min(to, start + this.logChunk - 1);
      let logs: ethers.Log[];
      try {
        logs = await this.o.chain.provider.getLogs({ address: this.o.chain.oracle.target as string, fromBlock: start, toBlock: end });
      } catch (error) {
        if (this.logChunk === 1 || !isRangeRefusal(error)) throw error;
        this.logChunk = Math.ceil(this.logChunk / 2);
        this.o.log("warn", "log-range-refused", { from: start, to: end, blocks: end - start + 1, nextChunk: this.logChunk, error: oneLine(error) });
        continue;
      }
      this.handleLogs(logs);
      this.s.cursor = end;
      this.state.save();
      start = end + 1;
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
      if (e) applyOracleEvent(this.s, e, log.blockNumber, this.me, this.o.log);
    }
  }

  /**
   * Keeps the state bounded: drops a claim once nothing about it can concern us any more — final; void and, if we
   * challenged it, settled with our share collected; or someone else's, unchallenged by us, with its window
   * passed (as of the last block read) and no game open — with its games, and its request once no claim needs it.
   */
  private async forgetSettled(): Promise<void> {
    const s = this.s;
    const openGames = new Set(Object.values(s.games).filter((g) => g.defenderWon === undefined).map((g) => g.claimId));
    const done = (id: string, c: ClaimRecord) =>
      c.status === "final" || (c.status === "void" && (c.challengeGame === undefined || (c.settledWinners !== undefined && !c.rewardToCheck && !openGames.has(id))));
    // An open claim of another key whose window has passed with no game open: nothing can happen to it but its
    // finalization (a game of ours against it that is over was lost: the claim is not void).
    const lapsed = (id: string, c: ClaimRecord) => c.status === "open" && c.claimant !== this.me && !openGames.has(id);
    let changed = false;
    for (const [id, claim] of Object.entries(s.claims)) {
      if (!done(id, claim)) {
        if (!lapsed(id, claim)) continue;
        if (this.cursorTime?.block !== s.cursor) this.cursorTime = { block: s.cursor, time: (await this.o.chain.provider.getBlock(s.cursor))?.timestamp ?? 0 };
        if (this.cursorTime.time <= claim.deadline) continue;
      }
      delete s.claims[id];
      this.ownViews.delete(id);
      for (const [gameId, g] of Object.entries(s.games)) if (g.claimId === id) delete s.games[gameId];
      // A voided request may be claimed again: its input is then read back from its event (findRequest).
      if (!Object.values(s.claims).some((c) => c.requestId === claim.requestId)) {
        delete s.requests[claim.requestId];
        this.honestTrees.delete(claim.requestId);
      }
      changed = true;
    }
    if (changed) this.state.save();
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

  /** The view this key made its claim from (honest run, or the claim book's lie); null if neither matches. */
  private ownView(claimId: bigint, claim: ClaimRecord, shelved: ShelvedModel, request: RequestInfo): ClaimView | null {
    const key = claimId.toString();
    if (!this.ownViews.has(key)) this.ownViews.set(key, viewOfClaim(shelved, request, { claimId, traceRoot: claim.traceRoot }, this.o.book));
    return this.ownViews.get(key)!;
  }

  private async treesFor(claimId: string): Promise<ClaimTrees | undefined> {
    const claim = this.s.claims[claimId];
    const { shelved, request } = await this.shelvedFor(claim);
    if (!shelved) {
      this.stuck(claim, BigInt(claimId), "model not in --models");
      return undefined;
    }
    return {
      steps: shelved.model.meta.steps,
      honest: () => this.honestTree(shelved, request),
      own: () => this.ownView(BigInt(claimId), claim, shelved, request)?.tree ?? null,
      trace: () => traceRequest(shelved, request),
    };
  }

  private async judgeNew(): Promise<void> {
    let judged = false;
    for (const [id, claim] of Object.entries(this.s.claims)) {
      if (claim.status !== "open" || claim.verdict || this.stopping) continue;
      await this.judge(BigInt(id), claim);
      judged = true;
    }
    if (judged) this.state.save();
  }

  private async judge(claimId: bigint, claim: ClaimRecord): Promise<void> {
    const { shelved, request } = await this.shelvedFor(claim);
    if (!shelved) {
      claim.verdict = "unknown-model";
      this.o.log("warn", "unknown-model", { claim: claimId, model: request.modelId, hint: "add the model's file to --models to judge its claims" });
      return;
    }
    const began = performance.now();
    // The kernel's own trace root decides; the JavaScript trace tree is built only if a game needs it.
    const trace = traceRequest(shelved, request);
    const s0 = toHex(trace.stateHash(0));
    if (s0 !== request.initialState.toLowerCase()) {
      claim.verdict = "unknown-model";
      this.o.log("error", "initial-state-mismatch", { claim: claimId, request: request.requestId, onChain: request.initialState, ours: s0 });
      return;
    }
    claim.verdict = toHex(trace.root) === claim.traceRoot ? "valid" : "invalid";
    // A claim we are about to challenge: its tree now, from this trace, rather than when the liar's first reveal
    // lands — the time to build it then would run on our clock.
    if (claim.verdict === "invalid" && this.o.challenge !== false && claim.claimant !== this.me && !this.honestTrees.has(claim.requestId)) {
      this.honestTrees.set(claim.requestId, TraceTree.fromTrace(trace));
    }
    this.o.log(claim.verdict === "valid" ? "info" : "warn", "verdict", { claim: claimId, request: request.requestId, verdict: claim.verdict, own: claim.claimant === this.me, ms: Math.round(performance.now() - began) });
  }

  // ——— acting ———

  /** Sends a transaction; a revert (someone moved first, a window closed) is logged and skipped, not fatal. */
  private async attempt(what: string, fields: Record<string, unknown>, send: () => Promise<ethers.TransactionReceipt>, done: (receipt: ethers.TransactionReceipt) => void): Promise<boolean> {
    try {
      const receipt = await send();
      done(receipt); // logged before the receipt's events, so an action reads before what it causes
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

  private reportOnce(key: string, level: "warn" | "error", event: string, fields: Record<string, unknown>): void {
    if (this.reported.has(key)) return;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.add(key);
    this.o.log(level, event, fields);
  }

  /**
   * Challenges every wrong claim by another key that we have not challenged yet, in one challengeMany: earliest
   * deadline first, as many as the balance pays for (bonds and gas) and the gas budget holds; the rest next pass.
   */
  private async challengeWrongClaims(now: number): Promise<boolean> {
    if (this.o.challenge === false) return false;
    const candidates: [bigint, ClaimRecord][] = [];
    for (const [id, claim] of Object.entries(this.s.claims)) {
      if (claim.status !== "open" || claim.verdict !== "invalid" || claim.claimant === this.me || claim.challengeGame || claim.stuck) continue;
      if (now >= claim.deadline) this.stuck(claim, BigInt(id), "challenge window closed before the challenge");
      else candidates.push([BigInt(id), claim]);
    }
    if (candidates.length === 0) return false;
    candidates.sort((a, b) => a[1].deadline - b[1].deadline);
    const { oracle, provider } = this.o.chain;
    const to = oracle.target as string;
    this.bond ??= (await oracle.challengeBond()) as bigint;
    const bond = this.bond;
    const balance = await provider.getBalance(this.o.chain.address);
    // Claims we could not pay for wait until the balance grows (a win paid out), not re-estimated every pass.
    if (this.poorAt !== undefined && balance <= this.poorAt && candidates.every(([id]) => this.unaffordable.has(id.toString()))) return false;
    const unaffordable = (from: [bigint, ClaimRecord][]) => {
      this.poorAt = balance;
      for (const [id] of from) {
        if (this.unaffordable.has(id.toString())) continue;
        if (this.unaffordable.size > 10_000) this.unaffordable.clear();
        this.unaffordable.add(id.toString());
        this.o.log("error", "cannot-afford", { claim: id, bond, balance });
      }
    };
    // Only as many as the balance has bonds for are estimated (an estimate sending more than the balance fails).
    const payable = Number(balance / bond);
    if (payable < candidates.length) {
      unaffordable(candidates.slice(payable));
      candidates.length = payable;
      if (payable === 0) return false;
    }
    const [estimates, fees] = await Promise.all([
      estimateEach(provider, this.o.chain.address, candidates.map(([id]) => ({ to, data: oracle.interface.encodeFunctionData("challenge", [id]), value: bond }))),
      provider.getFeeData(),
    ]);
    const budget = this.o.gasBudget ?? DEFAULT_GAS_BUDGET;
    const gasPrice = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
    const picked: { id: bigint; claim: ClaimRecord; gas: bigint }[] = [];
    let total = 0n;
    for (const [k, [id, claim]] of candidates.entries()) {
      const e = estimates[k];
      if (!("gas" in e)) {
        // ClaimNotOpen / AlreadyChallenged: the events saying so are on their way; a closed window is final.
        if (e.error.startsWith("ChallengeWindowClosed")) this.stuck(claim, id, "challenge window closed before the challenge");
        else this.reportOnce(`challenge:${id}:${e.error}`, "warn", "challenge-dropped", { claim: id, reason: e.error });
        continue;
      }
      if (picked.length > 0 && total + e.gas > budget) break; // the rest next pass
      const cost = BigInt(picked.length + 1) * bond + batchGasLimit([...picked.map((p) => p.gas), e.gas]) * gasPrice;
      if (cost > balance) {
        unaffordable(candidates.slice(k));
        break;
      }
      picked.push({ id, claim, gas: e.gas });
      total += e.gas;
    }
    if (picked.length === 0) return false;
    const ids = picked.map((p) => p.id);
    const gasLimit = batchGasLimit(picked.map((p) => p.gas));
    return this.attempt(
      "challengeMany",
      { claims: ids.length },
      () => this.sender.send(oracle, "challengeMany", [ids], { value: bond * BigInt(ids.length), gasLimit, what: `challengeMany of ${ids.length}` }),
      (receipt) => {
        const games = new Map(eventsIn(receipt, oracle, "Challenged").map((e) => [(e.args.claimId as bigint).toString(), e.args.gameId as bigint]));
        for (const p of picked) if (games.has(p.id.toString())) this.o.log("info", "challenge", { claim: p.id, game: games.get(p.id.toString()), gas: p.gas, windowLeft: p.claim.deadline - now, block: receipt.blockNumber });
        const skipped = eventsIn(receipt, oracle, "ChallengeSkipped");
        for (const e of skipped) {
          const reason = reasonOfBytes(e.args.reason as string);
          const claim = this.s.claims[(e.args.claimId as bigint).toString()];
          if (claim && reason.startsWith("ChallengeWindowClosed")) this.stuck(claim, e.args.claimId as bigint, "challenge window closed before the challenge");
          this.o.log("warn", "challenge-skipped", { claim: e.args.claimId, reason });
        }
        this.o.log("info", "challenge-batch", { block: receipt.blockNumber, claims: games.size, skipped: skipped.length, gasUsed: receipt.gasUsed, gasLimit });
      },
    );
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
      () => this.sender.send(this.o.chain.oracle, "finalize", finalizeArgs(claimId, shelved, view), { gasLimit: FINALIZE_GAS, simulate: true }),
      (receipt) => this.o.log("info", "finalize", { claim: claimId, request: claim.requestId, callbackSucceeded: eventsIn(receipt, this.o.chain.oracle, "Finalized")[0]?.args.callbackSucceeded, gas: receipt.gasUsed, block: receipt.blockNumber }),
    );
  }

  /**
   * Our share of each settled void claim we won a game against, unless settlement paid it already (a sole winner
   * whose win ended the last game): gameOfChallenger's rewardDue says which.
   */
  private async collectRewards(): Promise<boolean> {
    const oracle = this.o.chain.oracle;
    let busy = false;
    for (const [id, claim] of Object.entries(this.s.claims)) {
      if (!claim.rewardToCheck || this.stopping) continue;
      const [, , rewardDue] = (await oracle.gameOfChallenger(BigInt(id), this.o.chain.address)) as [boolean, bigint, boolean];
      if (rewardDue) {
        const sent = await this.attempt(
          "collectReward",
          { claim: id },
          () => this.sender.send(oracle, "collectReward", [BigInt(id), this.o.chain.address]),
          (receipt) => {
            const amount = eventsIn(receipt, oracle, "Credited").find((e) => (e.args.account as string).toLowerCase() === this.me)?.args.amount as bigint | undefined;
            this.s.totals.collected++;
            this.o.log("info", "reward-collected", { claim: id, winners: claim.settledWinners, amountWei: amount, gas: receipt.gasUsed, block: receipt.blockNumber });
          },
        );
        busy = sent || busy;
        // A failure leaves the flag set: the next pass reads rewardDue again (false once someone collected it for us).
        if (!sent) continue;
      }
      claim.rewardToCheck = false;
      this.state.save();
    }
    return busy;
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
        this.o.log("info", "withdraw", { amountWei: credit, gas: receipt.gasUsed, block: receipt.blockNumber });
      },
    );
  }

  private statusLine(): void {
    const open = Object.entries(this.s.games).filter(([, g]) => g.defenderWon === undefined);
    const every = this.o.statusEveryMs ?? 10_000;
    if (open.length === 0 || Date.now() - this.lastStatus < every) return;
    this.lastStatus = Date.now();
    const byRole: Record<string, number> = {};
    for (const [, g] of open) {
      const claim = this.s.claims[g.claimId];
      if (claim) byRole[roleOf(g, claim, this.me)] = (byRole[roleOf(g, claim, this.me)] ?? 0) + 1;
    }
    const claims = Object.values(this.s.claims).filter((c) => c.status === "open");
    this.o.log("info", "status", { cursor: this.s.cursor, openClaims: claims.length, games: open.length, ...byRole, ...this.s.totals });
  }

  /** For tests and the demo: a copy of the persisted state. */
  snapshot(): AgentStateData {
    return structuredClone(this.s);
  }
}

/**
 * A provider's refusal of an eth_getLogs range as too large or too many results (a JSON-RPC error answered by the
 * node, not a transport failure): e.g. "query exceeds max block range 1000", "block range is too wide", "query
 * returned more than 10000 results", "Log response size exceeded".
 */
export function isRangeRefusal(error: unknown): boolean {
  const e = error as { code?: string; error?: { message?: unknown }; info?: { error?: { message?: unknown } }; message?: unknown };
  const answered = [e.error?.message, e.info?.error?.message].find((m) => typeof m === "string") as string | undefined;
  if (answered === undefined && e.code !== "UNKNOWN_ERROR" && e.code !== "SERVER_ERROR") return false;
  return /range|too (many|large|wide|big)|more than|exceed|limit/i.test(answered ?? String(e.message));
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 300);
}
