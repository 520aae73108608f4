/**
 * The daemon (`mlvm challenger`): one key's agent on one deployment. Each pass it
 *   0. checks that the chain is the one its state is of (a new genesis: the state is set aside and it starts
 *      afresh) and that the blocks it read are still the chain's (a reorg: what the dropped blocks did is undone
 *      and they are read again, agent-reorg.ts),
 *   1. follows its transactions in flight (tx-pipeline.ts: many at once, repriced when stuck, journaled),
 *   2. reads the oracle's events from its cursor up to head − confirmations (requests on models it holds, claims,
 *      every challenge of every claim it knows, results, settlements, credits) into its state (agent-events.ts,
 *      agent-state.ts), through the chain's LogReader (chunked; a range the provider refuses is halved),
 *   3. re-executes every new claim with the WASM machine and judges it by its trace root,
 *   4. challenges every wrong claim by another key inside its window, all in one challengeMany transaction
 *      (affordable ones first, earliest deadline first),
 *   5. makes every move due in every game it has a part in — choose and prove as challenger; reveal for its own
 *      claims and for every claim it judged valid (defender moves are anyone's); timeouts against clocks run out
 *      and, once a claim is void, in every game against it that it has a stake in — as one multicall
 *      (agent-games.ts, agent-planner.ts, agent-batch.ts),
 *   6. finalizes its own claims whose window passed, collects its share of settled void claims, and withdraws.
 * Nothing waits for a receipt: a pass sends what is due and the next pass, at once, finds what was mined; a move
 * already in flight (its tag is busy) is not planned again. Any RPC failure aborts the pass; the loop retries with
 * back-off and the state (written after every change) makes a restart, even after kill -9, resume where it was.
 * One daemon per state file (state-lock.ts).
 */
import { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { toHex } from "../vm/hash.js";
import { DEFAULT_GAS_BUDGET, batchGasLimit, estimateEach, reasonOfBytes } from "./agent-batch.js";
import { FundsWatch } from "./agent-funds.js";
import { type ClaimTrees, GameDesk } from "./agent-games.js";
import { applyOracleEvent } from "./agent-events.js";
import { roleOf } from "./agent-planner.js";
import { forkPoint, undoAfter } from "./agent-reorg.js";
import { AgentSender, type Call, type OnMined } from "./agent-sender.js";
import { type AgentStateData, AgentState, type ClaimRecord, type StateIdentity, TAIL_LENGTH } from "./agent-state.js";
import { type Chain, ChainMismatchError, chainNow } from "./chain.js";
import type { ClaimBook } from "./claim-book.js";
import type { ClaimView } from "./claims.js";
import { type Logger, errorLine } from "./log.js";
import type { ModelShelf, ShelvedModel } from "./models.js";
import { eventsIn } from "./protocol.js";
import { FINALIZE_GAS, finalizeArgs, traceRequest, viewOfClaim } from "./proposer.js";
import { describeSaturations } from "../compiler/compile.js";
import { type RequestInfo, findRequest } from "./requests.js";
import { ContractRevertError } from "./revert.js";
import { type StateLock, lockState } from "./state-lock.js";
import { TraceTree } from "./trace-tree.js";
import { BroadcastFundsError, PipelineFullError, TxPipeline } from "./tx-pipeline.js";

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
  /** Challenge wrong claims by other keys (default true; false for a proposer that only defends). */
  challenge?: boolean;
  /** Finalize this key's own claims once their window passes (default true). */
  finalizeOwn?: boolean;
  /** How often a status line is logged while games are open. */
  statusEveryMs?: number;
  /** The most gas one batch (of moves, or of challenges) may use by its calls' estimates (default 12,000,000). */
  gasBudget?: bigint;
  /** Unmined transactions at most (default 8). */
  maxInFlight?: number;
  /** The highest max fee per gas it signs, in wei (default 200 gwei): stuck transactions are repriced up to it. */
  maxFee?: bigint;
}

const MAX_BACKOFF_MS = 4000;

/** The chain under the daemon restarted (its genesis changed): the state is of a chain that is gone. */
export class ChainRestartedError extends MlvmError {
  constructor(
    readonly genesis: string,
    message: string,
  ) {
    super(message);
  }
}

/** Gas a challenger should hold besides its bonds: a whole MNIST dispute costs ~0.85M (README "Gas"). */
const DISPUTE_GAS = 1_000_000n;

/** Gas of one challenge (133,012 measured, README "Gas"), for saying what a bond needs with its gas. */
const CHALLENGE_GAS = 140_000n;

export class Agent {
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly sender: AgentSender;
  private desk: GameDesk;
  private readonly funds: FundsWatch;
  /** Requests' inputs read back from their events, while a claim needs them (not persisted: the chain has them). */
  private readonly requestInfo = new Map<string, RequestInfo>();
  private readonly honestTrees = new Map<string, TraceTree>();
  private readonly ownViews = new Map<string, ClaimView | null>();
  private readonly reported = new Set<string>();
  private bond: bigint | undefined;
  /** The time of the block the cursor is at (read once per cursor). */
  private cursorTime: { block: number; time: number } | undefined;
  private lastStatus = 0;
  /** The oracle is missing on this chain (said once): a restarted chain not yet redeployed. */
  private oracleMissing = false;
  private fundsChecked = false;

  private constructor(
    private readonly o: AgentOptions,
    private state: AgentState,
    private readonly id: StateIdentity,
    private readonly lock: StateLock | undefined,
    private readonly splitBits: number,
  ) {
    this.funds = new FundsWatch(o.log, o.chain.address);
    const pipeline = new TxPipeline(o.chain.wallet, { txs: () => this.s.txs, save: () => this.state.save() }, { maxInFlight: o.maxInFlight, maxFee: o.maxFee, keepDepth: Math.max(6, o.confirmations + 1), log: o.log });
    this.sender = new AgentSender(pipeline, o.chain.provider, o.chain.address, o.log, (receipt) => this.handleReceipt(receipt), (fork) => this.rewind(fork, "a mined transaction's block was dropped"));
    this.desk = this.newDesk();
  }

  private newDesk(): GameDesk {
    return new GameDesk({
      chain: this.o.chain,
      me: this.me,
      state: () => this.s,
      log: this.o.log,
      submit: (call, what, tags, head, onMined) => this.submit(call, what, tags, head, onMined),
      busy: () => this.sender.pipeline.busyTags(),
      hasRoom: () => this.sender.pipeline.hasRoom(),
      gasBudget: this.o.gasBudget ?? DEFAULT_GAS_BUDGET,
      splitBits: this.splitBits,
      trees: (claimId) => this.treesFor(claimId),
      stuck: (claimId, reason) => this.stuck(this.s.claims[claimId], BigInt(claimId), reason),
    });
  }

  private get s(): AgentStateData {
    return this.state.data;
  }

  private get me(): string {
    return this.o.chain.address.toLowerCase();
  }

  /**
   * Takes the state file's lock (StateLockedError if another daemon holds it), opens or starts the state, and says
   * what it starts with, including its funds (a warning if they cannot pay for a challenge and a dispute's gas).
   */
  static async open(o: AgentOptions): Promise<Agent> {
    const { chain } = o;
    const genesis = (await chain.provider.getBlock(0))!.hash!;
    const id = { chainId: chain.chainId, genesis, oracle: chain.deployments.contracts.InferenceOracle, address: chain.address };
    const lock = lockState(o.statePath);
    let agent: Agent;
    try {
      if (lock.takenFrom !== undefined) o.log("warn", "stale-lock-taken", { file: lock.path, deadPid: lock.takenFrom });
      const { state, resumed, setAside, reason } = AgentState.open(o.statePath, id, chain.deployments.fromBlock ?? 0);
      if (setAside) o.log("warn", "state-set-aside", { file: setAside, reason });
      agent = new Agent(o, state, id, lock, Number(await chain.game.splitBits()));
      agent.logStart(resumed);
    } catch (error) {
      lock.release();
      throw error;
    }
    return agent;
  }

  private logStart(resumed: boolean): void {
    const o = this.o;
    const d = this.s;
    // Claims on models it did not hold are judged again: --models may hold them now.
    for (const claim of Object.values(d.claims)) if (claim.verdict === "unknown-model") delete claim.verdict;
    o.log("info", "start", {
      address: o.chain.address,
      chainId: o.chain.chainId,
      oracle: this.id.oracle,
      resumed,
      cursor: d.cursor,
      games: Object.values(d.games).filter((g) => g.defenderWon === undefined).length,
      inFlight: d.txs.length,
      models: o.models.list().map((m) => `${m.source} ${m.id.slice(0, 10)}…`),
      confirmations: o.confirmations,
      gasBudget: o.gasBudget ?? DEFAULT_GAS_BUDGET,
    });
  }

  /**
   * At the first pass: what the key holds, and a warning if it cannot pay what its job needs — a challenge bond and
   * a dispute's gas for a challenger, a dispute's gas for a defender — at today's fee. (In the pass, not in open():
   * an RPC failure there is retried like any other.)
   */
  private async checkFunds(): Promise<void> {
    if (this.fundsChecked) return;
    const { provider, oracle, address } = this.o.chain;
    const [balance, fees] = await Promise.all([provider.getBalance(address), provider.getFeeData()]);
    const fee = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
    this.bond ??= (await oracle.challengeBond()) as bigint;
    const need = (this.o.challenge === false ? 0n : this.bond) + DISPUTE_GAS * fee;
    if (balance < need) this.funds.short(this.o.challenge === false ? "a dispute's gas" : "a challenge bond and a dispute's gas", balance, need);
    this.fundsChecked = true;
  }

  /**
   * Runs until stop(): passes, the next at once after a pass that sent something, soon while transactions are in
   * flight, after --poll-ms when idle. Releases the state file's lock when it ends.
   */
  async run(): Promise<void> {
    let backoff = 250;
    try {
      while (!this.stopping) {
        try {
          const pass = await this.tick();
          backoff = 250;
          if (pass === "waiting") await this.sleep(Math.min(this.o.pollMs, 100));
          else if (pass === "idle") await this.sleep(this.o.pollMs);
        } catch (error) {
          if (error instanceof ChainRestartedError) {
            this.restartState(error);
            continue;
          }
          if (error instanceof ChainMismatchError) {
            this.o.log("error", "chain-changed", { error: error.message });
            throw error; // nothing this daemon can do on another chain: the command exits, in one line
          }
          // A typed error is ours to fix (logged as such); anything else is the node or the network. Both retry.
          if (error instanceof MlvmError) this.o.log("error", "pass-failed", { error: errorLine(error), retryInMs: backoff });
          else this.o.log("warn", "rpc-retry", { error: errorLine(error), retryInMs: backoff });
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
      }
      this.state.save();
      this.o.log("info", "stopped", { cursor: this.s.cursor, gamesOpen: this.openGameCount(), inFlight: this.sender.pipeline.inFlight(), ...this.s.totals });
    } finally {
      this.lock?.release();
    }
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

  /**
   * One pass: "sent" when it handed a transaction to the pipeline (the next pass should come at once), "waiting"
   * when transactions are in flight, "idle" otherwise.
   */
  async tick(): Promise<"sent" | "waiting" | "idle"> {
    const { provider } = this.o.chain;
    const [latest, genesis] = await Promise.all([provider.getBlock("latest"), provider.getBlock(0)]);
    let head = latest!;
    if (genesis?.hash && genesis.hash !== this.s.genesis) {
      // Restarted: the same chain id is the same deployments file's chain, served afresh; another id is not.
      const chainId = Number(await provider.send("eth_chainId", []));
      if (chainId !== this.id.chainId) throw new ChainMismatchError(`the RPC now serves chain ${chainId}, not chain ${this.id.chainId} of the deployments file: stopping (give the right --rpc or --deployments)`);
      throw new ChainRestartedError(genesis.hash, `the chain's genesis is now ${genesis.hash}, not ${this.s.genesis}: the chain restarted`);
    }
    if (!(await this.oracleDeployed())) return "idle";
    await this.checkFunds();
    await this.followReorgs(head);
    // A receipt from a block mined since `head` was read: plan at that block, not the one before it.
    if ((await this.sender.poll(head)) > head.number) head = (await provider.getBlock("latest"))!;
    const safe = head.number - this.o.confirmations;
    if (safe > this.s.cursor) await this.scan(this.s.cursor + 1, safe);
    await this.judgeNew();
    let sent = false;
    const now = chainNow(head);
    if (!this.stopping) sent = (await this.challengeWrongClaims(head, now)) || sent;
    if (!this.stopping) sent = (await this.desk.play(head, now)) || sent;
    for (const [id, claim] of Object.entries(this.s.claims)) if (!this.stopping) sent = (await this.finalizeOwn(BigInt(id), claim, head)) || sent;
    if (!this.stopping) sent = (await this.collectRewards(head)) || sent;
    if (!this.stopping) sent = (await this.withdrawCredit(head)) || sent;
    await this.forgetSettled();
    const waiting = this.sender.pipeline.inFlight() > 0;
    if (!sent && !waiting && !this.stopping) await this.warmTrees(150);
    this.statusLine();
    return sent ? "sent" : waiting ? "waiting" : "idle";
  }

  // ——— the chain under the daemon ———

  /** Whether the oracle has code here; a chain that lost it (restarted, not redeployed yet) is waited for, said once. */
  private async oracleDeployed(): Promise<boolean> {
    const code = await this.o.chain.provider.getCode(this.id.oracle);
    if (code !== "0x") {
      if (this.oracleMissing) this.o.log("info", "oracle-found", { oracle: this.id.oracle });
      this.oracleMissing = false;
      return true;
    }
    if (!this.oracleMissing) this.o.log("error", "oracle-missing", { oracle: this.id.oracle, hint: "the chain has no contract at the deployments file's address: waiting for it (redeploy with the same key and nonce, or give another --deployments)" });
    this.oracleMissing = true;
    return false;
  }

  /** A new genesis: the state is set aside (kept for inspection) and the daemon starts afresh on the new chain. */
  private restartState(restart: ChainRestartedError): void {
    this.id.genesis = restart.genesis;
    const { state, setAside } = this.state.setAside(this.id, this.o.chain.deployments.fromBlock ?? 0);
    this.state = state;
    this.o.log("error", "chain-restarted", { reason: restart.message, stateSetAside: setAside });
    this.sender.pipeline.reset();
    this.requestInfo.clear();
    this.honestTrees.clear();
    this.ownViews.clear();
    this.cursorTime = undefined;
    this.desk = this.newDesk();
  }

  /**
   * Checks that the newest block the cursor stood at is still the chain's; if not, finds where the branches part
   * (the tail of (block, hash) pairs) and undoes what the dropped blocks did.
   */
  private async followReorgs(head: ethers.Block): Promise<void> {
    const last = this.s.tail.at(-1);
    if (!last) return;
    const hashAt = async (n: number) => (n > head.number ? null : ((await this.o.chain.provider.getBlock(n))?.hash ?? null));
    if ((await hashAt(last[0])) === last[1]) return;
    const fork = await forkPoint(this.s.tail, hashAt, this.o.chain.deployments.fromBlock ?? 0);
    this.rewind(fork, `block ${last[0]} is no longer ${last[1].slice(0, 10)}…`);
  }

  /** Undoes what blocks after `fork` did to the state, so that the next scan reads them again. */
  private rewind(fork: number, why: string): void {
    const cursorWas = this.s.cursor;
    const undone = undoAfter(this.s, fork);
    this.state.save();
    // A dropped block after the cursor that held nothing the state had taken in: nothing to undo or read again.
    if (this.s.cursor === cursorWas && Object.values(undone).every((n) => n === 0)) return;
    this.desk = this.newDesk(); // its cached positions may be of the dropped branch
    this.cursorTime = undefined;
    this.o.log("warn", "reorg", { reason: why, fork, cursorWas, cursor: this.s.cursor, undone });
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
   * Reads the oracle's events in [from, to] through the chain's LogReader (chunks the provider accepts; a refused
   * range is halved, said in one line), and after each chunk moves the cursor to its end with that block's hash
   * (read before its logs: a reorg in between shows as a changed hash at the next pass, never as missed events).
   */
  private async scan(from: number, to: number): Promise<void> {
    const { provider, oracle } = this.o.chain;
    await this.o.chain.logs.forEachChunk({ address: oracle.target as string }, from, to, async (logs, end) => {
      const hash = (await provider.getBlock(end))?.hash;
      this.handleLogs(logs);
      this.s.cursor = end;
      if (hash) {
        this.s.tail.push([end, hash]);
        if (this.s.tail.length > TAIL_LENGTH) this.s.tail.splice(0, this.s.tail.length - TAIL_LENGTH);
      }
      this.state.save();
    });
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
      if (e) applyOracleEvent(this.s, e, log.blockNumber, { me: this.me, log: this.o.log, holds: (id) => this.o.models.get(id) !== undefined });
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
      // Its request is kept (as a block) while it may be claimed again: until a claim on it is final, or will be
      // (a lapsed claim can only be finalized).
      if (!Object.values(s.claims).some((c) => c.requestId === claim.requestId)) {
        if (claim.status !== "void") delete s.requests[claim.requestId];
        this.requestInfo.delete(claim.requestId);
        this.honestTrees.delete(claim.requestId);
      }
      changed = true;
    }
    if (changed) this.state.save();
  }

  // ——— judging ———

  /**
   * A request's input, read back from its event: in the one block the state recorded for it, or, for a request
   * the state does not hold (on a model not held when it was made), searched newest first up to its claim's block.
   */
  private async request(requestId: string, claim?: ClaimRecord): Promise<RequestInfo> {
    let info = this.requestInfo.get(requestId);
    if (!info) {
      const block = this.s.requests[requestId];
      info = await findRequest(this.o.chain, BigInt(requestId), block ?? claim?.block ?? "latest");
      this.requestInfo.set(requestId, info);
    }
    return info;
  }

  private async shelvedFor(claim: ClaimRecord): Promise<{ shelved: ShelvedModel | undefined; request: RequestInfo }> {
    const request = await this.request(claim.requestId, claim);
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
    // Saturation is the VM's defined result, so it changes no verdict; but the output may not be the float model's.
    const saturated = shelved.machine.saturations();
    if (saturated.length > 0) {
      const where = describeSaturations(shelved.model.meta, saturated);
      this.o.log("warn", "run-saturated", { claim: claimId, request: request.requestId, values: saturated.reduce((n, x) => n + x.count, 0), where });
    }
  }

  // ——— acting ———

  /**
   * Hands a checked call to the pipeline. False, said once per balance, when the node refuses it for want of funds
   * (nothing is journaled then; it is tried again next pass).
   */
  private async submit(call: Call, what: string, tags: string[], head: ethers.Block, onMined?: OnMined): Promise<boolean> {
    try {
      await this.sender.submit(call, what, tags, head, onMined);
      // Only a shortfall said before needs the balance: no extra RPC per transaction otherwise.
      if (this.funds.isShort("gas")) this.funds.ok("gas", await this.o.chain.provider.getBalance(this.o.chain.address));
      return true;
    } catch (error) {
      if (error instanceof PipelineFullError) return false;
      if (error instanceof BroadcastFundsError) {
        const balance = await this.o.chain.provider.getBalance(this.o.chain.address);
        this.funds.short("gas", balance, (call.value ?? 0n) + call.gasLimit * ((await this.o.chain.provider.getFeeData()).maxFeePerGas ?? 0n), { what });
        return false;
      }
      throw error;
    }
  }

  /**
   * Checks a call (a revert — someone moved first, a window closed — is logged and skipped, not fatal) and
   * submits it, unless one with the same tag is in flight or the pipeline is full.
   */
  private async attempt(what: string, tag: string, fields: Record<string, unknown>, head: ethers.Block, prepare: () => Promise<Call>, onMined: OnMined): Promise<boolean> {
    if (this.sender.pipeline.busyTags().has(tag) || !this.sender.pipeline.hasRoom()) return false;
    let call: Call;
    try {
      call = await prepare();
    } catch (error) {
      if (error instanceof ContractRevertError) {
        this.reportOnce(`${tag}:${error.errorName}`, "warn", "tx-failed", { what, ...fields, error: error.message });
        return false;
      }
      throw error;
    }
    return this.submit(call, what, [tag], head, onMined);
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
   * A balance short of the next bond is said once ("cannot-afford"), and again only when it changes.
   */
  private async challengeWrongClaims(head: ethers.Block, now: number): Promise<boolean> {
    if (this.o.challenge === false || !this.sender.pipeline.hasRoom()) return false;
    const busy = this.sender.pipeline.busyTags();
    const candidates: [bigint, ClaimRecord][] = [];
    for (const [id, claim] of Object.entries(this.s.claims)) {
      if (claim.status !== "open" || claim.verdict !== "invalid" || claim.claimant === this.me || claim.challengeGame || claim.stuck || busy.has(`challenge:${id}`)) continue;
      if (now >= claim.deadline) this.stuck(claim, BigInt(id), "challenge window closed before the challenge");
      else candidates.push([BigInt(id), claim]);
    }
    if (candidates.length === 0) return false;
    candidates.sort((a, b) => a[1].deadline - b[1].deadline);
    const { oracle, provider } = this.o.chain;
    const to = oracle.target as string;
    this.bond ??= (await oracle.challengeBond()) as bigint;
    const bond = this.bond;
    const [balance, fees] = await Promise.all([provider.getBalance(this.o.chain.address), provider.getFeeData()]);
    const gasPrice = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
    const short = (waiting: number, need: bigint) => this.funds.short("a challenge bond", balance, need, { claimsWaiting: waiting, bondEth: ethers.formatEther(bond) }, waiting);
    // Only as many as the balance has bonds for are estimated (an estimate sending more than the balance fails).
    const payable = Number(balance / bond);
    if (payable === 0) {
      short(candidates.length, bond + CHALLENGE_GAS * gasPrice);
      return false;
    }
    const waitingForFunds = Math.max(0, candidates.length - payable);
    candidates.length = Math.min(candidates.length, payable);
    const estimates = await estimateEach(provider, this.o.chain.address, candidates.map(([id]) => ({ to, data: oracle.interface.encodeFunctionData("challenge", [id]), value: bond })));
    const budget = this.o.gasBudget ?? DEFAULT_GAS_BUDGET;
    const picked: { id: bigint; claim: ClaimRecord; gas: bigint }[] = [];
    let total = 0n;
    let unpaid = waitingForFunds;
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
        unpaid += candidates.length - k;
        break;
      }
      picked.push({ id, claim, gas: e.gas });
      total += e.gas;
    }
    if (unpaid > 0) short(unpaid, BigInt(picked.length + 1) * bond + batchGasLimit([...picked.map((p) => p.gas), CHALLENGE_GAS]) * gasPrice);
    else this.funds.ok("a challenge bond", balance);
    if (picked.length === 0) return false;
    const ids = picked.map((p) => p.id);
    const gasLimit = batchGasLimit(picked.map((p) => p.gas));
    const call = { to, data: oracle.interface.encodeFunctionData("challengeMany", [ids]), value: bond * BigInt(ids.length), gasLimit };
    return this.submit(call, `challengeMany of ${ids.length}`, ids.map((id) => `challenge:${id}`), head, (receipt) => {
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
    });
  }

  private async finalizeOwn(claimId: bigint, claim: ClaimRecord, head: ethers.Block): Promise<boolean> {
    if (this.o.finalizeOwn === false || claim.claimant !== this.me || claim.status !== "open" || claim.stuck || chainNow(head) <= claim.deadline) return false;
    if (this.sender.pipeline.busyTags().has(`finalize:${claimId}`)) return false;
    const onChain = await this.o.chain.oracle.getClaim(claimId);
    if (Number(onChain.openGames) !== 0) return false;
    const { shelved, request } = await this.shelvedFor(claim);
    if (!shelved) return this.stuck(claim, claimId, "model not in --models");
    const view = this.ownView(claimId, claim, shelved, request);
    if (!view) return this.stuck(claim, claimId, "own claim not reproducible: not an honest run and not in the claim book");
    const oracle = this.o.chain.oracle;
    return this.attempt(
      "finalize",
      `finalize:${claimId}`,
      { claim: claimId },
      head,
      () => this.sender.prepare(oracle, "finalize", finalizeArgs(claimId, shelved, view), { gasLimit: FINALIZE_GAS, simulate: true }),
      (receipt) => this.o.log("info", "finalize", { claim: claimId, request: claim.requestId, callbackSucceeded: eventsIn(receipt, oracle, "Finalized")[0]?.args.callbackSucceeded, gas: receipt.gasUsed, block: receipt.blockNumber }),
    );
  }

  /**
   * Our share of each settled void claim we won a game against, unless settlement paid it already (a sole winner
   * whose win ended the last game): gameOfChallenger's rewardDue says which.
   */
  private async collectRewards(head: ethers.Block): Promise<boolean> {
    const oracle = this.o.chain.oracle;
    let sent = false;
    for (const [id, claim] of Object.entries(this.s.claims)) {
      if (!claim.rewardToCheck || this.stopping || this.sender.pipeline.busyTags().has(`collect:${id}`)) continue;
      const [, , rewardDue] = (await oracle.gameOfChallenger(BigInt(id), this.o.chain.address)) as [boolean, bigint, boolean];
      if (!rewardDue) {
        claim.rewardToCheck = false;
        this.state.save();
        continue;
      }
      // The flag stays set until the collection is mined: a failure is tried again (rewardDue false once collected).
      sent =
        (await this.attempt("collectReward", `collect:${id}`, { claim: id }, head, () => this.sender.prepare(oracle, "collectReward", [BigInt(id), this.o.chain.address]), (receipt) => {
          const amount = eventsIn(receipt, oracle, "Credited").find((e) => (e.args.account as string).toLowerCase() === this.me)?.args.amount as bigint | undefined;
          this.s.totals.collected++;
          claim.rewardToCheck = false;
          this.o.log("info", "reward-collected", { claim: id, winners: claim.settledWinners, amountWei: amount, gas: receipt.gasUsed, block: receipt.blockNumber });
        })) || sent;
    }
    return sent;
  }

  private async withdrawCredit(head: ethers.Block): Promise<boolean> {
    if (!this.s.creditDue || this.sender.pipeline.busyTags().has("withdraw")) return false;
    const oracle = this.o.chain.oracle;
    const credit = (await oracle.credit(this.o.chain.address)) as bigint;
    if (credit === 0n) {
      this.s.creditDue = false;
      this.state.save();
      return false;
    }
    return this.attempt("withdraw", "withdraw", { amountWei: credit }, head, () => this.sender.prepare(oracle, "withdraw", []), (receipt) => {
      this.s.creditDue = false;
      this.s.totals.withdrawnWei = (BigInt(this.s.totals.withdrawnWei) + credit).toString();
      this.o.log("info", "withdraw", { amountWei: credit, gas: receipt.gasUsed, block: receipt.blockNumber });
    });
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
