import { ethers } from "ethers";
import { type Chain, chainNow } from "../../challenger/chain.js";
import { eventFilter } from "../../challenger/log-reader.js";
import { disputedSteps, roundAt, roundsOf } from "../../challenger/moves.js";
import { checkModelFor } from "../../challenger/proposer.js";
import { type GameView, clockLeft, position, turnOf } from "../../challenger/protocol.js";
import { type ClaimInfo, type RequestInfo, claimFromEvent, findClaim, findRequest, outputFromLeaves, parseId, requestFromEvent, requestOfClaim } from "../../challenger/requests.js";
import { decodeOutput } from "../../interpreter/run.js";
import { type Command, type Io, UsageError } from "../command.js";
import { CHAIN_OPTIONS, MODEL_OPTIONS, checkModelOptions, describeClaimId, shelvedModel, toJson, withChain } from "../chain-options.js";

const CLAIM_STATUS = ["none", "open", "void", "final"] as const;

const short = (hex: string, keep = 6) => (hex.length > 2 * keep + 4 ? `${hex.slice(0, keep)}…${hex.slice(-4)}` : hex);
const eth = (wei: bigint) => `${ethers.formatEther(wei)} ETH`;

/** "in 45 s" / "passed 12 s ago". */
function timeLeft(deadline: number, now: number): string {
  return deadline >= now ? `${deadline - now} s left` : `passed ${now - deadline} s ago`;
}

interface GameSummary {
  gameId: bigint;
  challenger: string;
  /** null while the game is open. */
  defenderWon: boolean | null;
}

/**
 * What became of a void claim's bond. Until its last game ends (`settled` false) only the winners so far are
 * known; then ClaimSettled says each winner's share and the part burned.
 */
interface Settlement {
  settled: boolean;
  winners: number;
  /** Wei to each winning challenger (besides its own bond back), once settled. */
  share: bigint | null;
  burned: bigint | null;
}

function settlementFrom(e: ethers.LogDescription): Settlement {
  return { settled: true, winners: Number(e.args.winners), share: e.args.share as bigint, burned: e.args.burnedAmount as bigint };
}

function settlementText(s: Settlement, openGames: number): string {
  if (!s.settled) return `not settled yet: ${openGames} game${openGames === 1 ? "" : "s"} still open, ${s.winners} won by challengers so far (timeout() ends each at once for its challenger)`;
  return `settled: ${eth(s.share!)} to each of ${s.winners} winning challenger${s.winners === 1 ? "" : "s"} (with its bond back), ${eth(s.burned!)} burned`;
}

/** What the oracle's events say, up to block `toBlock` (read forward in chunks the provider accepts). */
async function scanOracle(chain: Chain, toBlock: number) {
  const logs = await chain.logs.all({ address: chain.deployments.contracts.InferenceOracle }, chain.deployments.fromBlock ?? 0, toBlock);
  const requests = new Map<bigint, RequestInfo>();
  const claims = new Map<bigint, ClaimInfo>();
  const games = new Map<bigint, GameSummary[]>();
  const results = new Map<bigint, boolean>();
  const settlements = new Map<bigint, Settlement>();
  for (const log of logs) {
    const e = chain.oracle.interface.parseLog(log);
    if (!e) continue;
    if (e.name === "InferenceRequested") requests.set(e.args.requestId, requestFromEvent(e));
    else if (e.name === "Claimed") claims.set(e.args.claimId, claimFromEvent(e));
    else if (e.name === "Challenged") {
      const list = games.get(e.args.claimId) ?? [];
      list.push({ gameId: e.args.gameId, challenger: e.args.challenger, defenderWon: null });
      games.set(e.args.claimId, list);
    } else if (e.name === "GameResolved") results.set(e.args.gameId, e.args.defenderWon);
    else if (e.name === "ClaimSettled") settlements.set(e.args.claimId, settlementFrom(e));
  }
  for (const list of games.values()) for (const g of list) g.defenderWon = results.get(g.gameId) ?? null;
  return { requests, claims, games, settlements };
}

function gamesText(games: GameSummary[]): string {
  if (games.length === 0) return "none";
  const open = games.filter((g) => g.defenderWon === null).length;
  const won = games.filter((g) => g.defenderWon === true).length;
  const lost = games.filter((g) => g.defenderWon === false).length;
  return `${games.length} (${[open && `${open} open`, won && `${won} won by the claimant`, lost && `${lost} won by the challenger`].filter(Boolean).join(", ")})`;
}

async function overview(chain: Chain, values: Record<string, string | boolean | undefined>, io: { out(line: string): void }) {
  const block = (await chain.provider.getBlock("latest"))!;
  const now = chainNow(block);
  const [scan, splitBits, burned] = await Promise.all([scanOracle(chain, block.number), chain.game.splitBits(), chain.oracle.burned()]);
  const requests = await Promise.all(
    [...scan.requests.values()].map(async (r) => {
      const onChain = await chain.oracle.getRequest(r.requestId);
      const status = onChain.fulfilled ? "fulfilled" : Number(onChain.liveAttempt) !== 0 ? "claimed" : "open";
      return { requestId: r.requestId, modelId: r.modelId, requester: r.requester, callback: r.callback === ethers.ZeroAddress ? null : r.callback, status };
    }),
  );
  const claims = await Promise.all(
    [...scan.claims.values()].map(async (c) => {
      const onChain = await chain.oracle.getClaim(c.claimId);
      const status = CLAIM_STATUS[Number(onChain.status)];
      const openGames = Number(onChain.openGames);
      return {
        claimId: c.claimId,
        requestId: c.requestId,
        status,
        claimant: c.claimant,
        deadline: c.deadline,
        secondsLeft: Math.max(0, c.deadline - now),
        openGames,
        games: scan.games.get(c.claimId) ?? [],
        settlement: status !== "void" ? null : (scan.settlements.get(c.claimId) ?? { settled: false, winners: Number(onChain.winners), share: null, burned: null }),
      };
    }),
  );
  const result = { chainId: chain.chainId, oracle: chain.deployments.contracts.InferenceOracle, block: block.number, timestamp: now, splitBits: Number(splitBits), burned: burned as bigint, requests, claims };
  if (values.json) return io.out(toJson(result));
  io.out(`oracle ${result.oracle} on chain ${chain.chainId}, block ${block.number} (chain time ${now}); a game round reveals 2^${result.splitBits} nodes; burned so far ${eth(result.burned)}`);
  io.out(requests.length === 0 ? "requests: none" : "requests:");
  if (requests.length > 0) {
    io.out(`  ${"id".padEnd(6)} ${"model".padEnd(16)} ${"requester".padEnd(14)} ${"callback".padEnd(14)} status`);
    for (const r of requests) io.out(`  ${String(r.requestId).padEnd(6)} ${short(r.modelId, 10).padEnd(16)} ${short(r.requester).padEnd(14)} ${(r.callback ? short(r.callback) : "-").padEnd(14)} ${r.status}`);
  }
  io.out(claims.length === 0 ? "claims: none" : "claims:");
  if (claims.length > 0) {
    io.out(`  ${"claim id".padEnd(14)} ${"request".padEnd(7)} ${"status".padEnd(6)} ${"claimant".padEnd(14)} ${"deadline".padEnd(32)} games`);
    for (const c of claims) {
      const deadline = `${c.deadline} (${c.status === "open" ? timeLeft(c.deadline, now) : "closed"})`;
      io.out(`  ${String(c.claimId).padEnd(14)} ${String(c.requestId).padEnd(7)} ${c.status.padEnd(6)} ${short(c.claimant).padEnd(14)} ${deadline.padEnd(32)} ${gamesText(c.games)}`);
    }
    for (const c of claims) if (c.settlement) io.out(`  void claim ${c.claimId}: ${settlementText(c.settlement, c.openGames)}`);
  }
}

/**
 * The newest event of `contract` that `event` selects in blocks from … to, searched newest first: a game's end is
 * usually recent, and never before its claim's block (`from`).
 */
async function lastEvent(chain: Chain, contract: ethers.Contract, event: ethers.DeferredTopicFilter, from: number, to: number) {
  return chain.logs.findLast(await eventFilter(contract, event), from, to);
}

/** How a finished game ended: the step proved at its leaf, a clock that ran out, or a claim already void. */
async function howItEnded(chain: Chain, gameId: bigint, claimId: bigint, from: number, toBlock: number): Promise<string> {
  const proved = await lastEvent(chain, chain.game, chain.game.filters.Proved(gameId), from, toBlock);
  if (proved) return ` (step ${chain.game.interface.parseLog(proved)!.args.step} proved on-chain)`;
  const timedOut = await lastEvent(chain, chain.game, chain.game.filters.TimedOut(gameId), from, toBlock);
  if (!timedOut) return "";
  const defenderWon = chain.game.interface.parseLog(timedOut)!.args.defenderWon as boolean;
  if (!defenderWon) {
    // timeout() also ends, for its challenger, any game against a claim another game had voided before.
    const voided = await lastEvent(chain, chain.oracle, chain.oracle.filters.ClaimVoided(claimId), from, toBlock);
    if (voided && voided.transactionHash !== timedOut.transactionHash) return " (ended by timeout(): the claim was already void)";
  }
  return ` (the ${defenderWon ? "challenger" : "defender"}'s clock ran out)`;
}

/** One game as status shows it: where the dissection stands, whose move it is, both clocks, or how it ended. */
async function gameEntry(chain: Chain, e: ethers.LogDescription, g: GameView, ctx: { claimId: bigint; claimVoid: boolean; steps: number; splitBits: number; now: number; block: number; claimBlock: number }) {
  const rounds = roundsOf(g.traceDepth, ctx.splitBits);
  const atLeaf = g.depth === g.traceDepth;
  const turn = g.active ? turnOf(g, ctx.now) : undefined;
  const toMove = turn ? (turn.defenderToMove ? "defender" : "challenger") : null;
  let result: string | null = null;
  let rewardDue: boolean | null = null;
  if (!g.active) {
    const resolved = await lastEvent(chain, chain.oracle, chain.oracle.filters.GameResolved(ctx.claimId, e.args.gameId), ctx.claimBlock, ctx.block);
    const defenderWon = resolved ? (chain.oracle.interface.parseLog(resolved)!.args.defenderWon as boolean) : null;
    result = (defenderWon === null ? "over" : defenderWon ? "claimant won" : "challenger won") + (await howItEnded(chain, e.args.gameId as bigint, ctx.claimId, ctx.claimBlock, ctx.block));
    if (g.challengerWon) rewardDue = ((await chain.oracle.gameOfChallenger(ctx.claimId, g.challenger)) as unknown as { rewardDue: boolean }).rewardDue;
  }
  return {
    gameId: e.args.gameId as bigint,
    challenger: e.args.challenger as string,
    active: g.active,
    depth: g.depth,
    traceDepth: g.traceDepth,
    levels: g.levels,
    round: atLeaf ? null : roundAt(g.depth, ctx.splitBits),
    rounds,
    steps: disputedSteps(g.depth, g.index, g.traceDepth, ctx.steps),
    node: g.node,
    revealed: atLeaf ? null : g.revealedAt !== 0,
    revealedAt: g.revealedAt === 0 ? null : g.revealedAt,
    turn: toMove,
    move: !turn ? null : atLeaf ? "prove" : turn.defenderToMove ? "reveal" : "choose",
    // The mover's clock ran out, or another game voided the claim: anyone may end the game with timeout().
    timeoutPossible: turn ? ctx.claimVoid || turn.used > turn.left : false,
    defenderClock: Math.max(0, clockLeft(g, "defender", ctx.now)),
    challengerClock: Math.max(0, clockLeft(g, "challenger", ctx.now)),
    result,
    rewardDue,
  };
}

type GameEntry = Awaited<ReturnType<typeof gameEntry>>;

function gameText(g: GameEntry): string {
  const where =
    g.round === null
      ? `at the leaf after ${g.rounds} rounds: step ${g.steps[0]} disputed`
      : `round ${g.round}/${g.rounds} (opens ${g.levels} levels: ${2 ** g.levels} nodes), disputed steps ${g.steps[0]}…${g.steps[1]}`;
  if (!g.active) return `over, ${where}; ${g.result}${g.rewardDue ? "; its share of the claim bond is still to collect (collectReward)" : ""}`;
  const clocks = `clocks: defender ${g.defenderClock} s, challenger ${g.challengerClock} s`;
  let state: string;
  if (g.move === "prove") state = "challenger to prove";
  else if (g.move === "reveal") state = g.revealed ? "node revealed after the defender's clock ran out" : "node not revealed: defender to reveal (anyone holding the claim's trace may reveal)";
  else state = `node revealed at ${g.revealedAt}: challenger to choose 1 of ${2 ** g.levels}`;
  return `active, ${where}; ${state}; ${clocks}${g.timeoutPossible ? "; anyone may end it with timeout()" : ""}`;
}

async function detail(chain: Chain, claimId: bigint, values: Record<string, string | boolean | undefined>, io: Io) {
  const claim = await findClaim(chain, claimId);
  const request = await findRequest(chain, requestOfClaim(claimId), claim.block);
  const [onChain, model, block, splitBits] = await Promise.all([chain.oracle.getClaim(claimId), chain.registry.model(request.modelId), chain.provider.getBlock("latest"), chain.game.splitBits()]);
  const now = chainNow(block!);
  const N = Number(model.steps);
  const shelved = shelvedModel(values, request.modelId, io.err);
  if (shelved) checkModelFor(shelved, request);
  const decoded = shelved ? decodeOutput(shelved.model.program, outputFromLeaves(shelved.model.program, claim.outputLeaves)) : undefined;
  const status = CLAIM_STATUS[Number(onChain.status)];
  const openGames = Number(onChain.openGames);

  // Every game and settlement of a claim comes after it: read from the claim's block on.
  const challenged = await chain.logs.all(await eventFilter(chain.oracle, chain.oracle.filters.Challenged(claimId)), claim.block, block!.number);
  const ctx = { claimId, claimVoid: status === "void", steps: N, splitBits: Number(splitBits), now, block: block!.number, claimBlock: claim.block };
  const games = await Promise.all(challenged.map(async (log) => {
    const e = chain.oracle.interface.parseLog(log)!;
    return gameEntry(chain, e, await position(chain, e.args.gameId as bigint), ctx);
  }));

  let settlement: Settlement | null = null;
  if (status === "void") {
    const settled = await lastEvent(chain, chain.oracle, chain.oracle.filters.ClaimSettled(claimId), claim.block, block!.number);
    settlement = settled ? settlementFrom(chain.oracle.interface.parseLog(settled)!) : { settled: false, winners: Number(onChain.winners), share: null, burned: null };
  }

  const result = {
    claimId,
    requestId: request.requestId,
    modelId: request.modelId,
    steps: N,
    status,
    claimant: claim.claimant,
    traceRoot: claim.traceRoot,
    finalState: claim.finalState,
    deadline: claim.deadline,
    now,
    secondsLeft: Math.max(0, claim.deadline - now),
    openGames,
    finalizable: status === "open" && now > claim.deadline && openGames === 0,
    output: decoded ? decoded.values : null,
    prediction: decoded ? decoded.prediction : null,
    outputLeaves: claim.outputLeaves,
    callback: request.callback === ethers.ZeroAddress ? null : request.callback,
    splitBits: ctx.splitBits,
    games,
    settlement,
  };
  if (values.json) return io.out(toJson(result));
  io.out(`claim ${describeClaimId(claimId)}: ${status}${result.finalizable ? " (window passed, no open game: ready to finalize)" : ""}`);
  io.out(`  model       ${request.modelId} (${N} steps)`);
  io.out(`  claimant    ${claim.claimant}`);
  io.out(`  trace root  ${claim.traceRoot}`);
  io.out(`  deadline    ${claim.deadline} (${status === "void" ? "closed: the claim is void" : timeLeft(claim.deadline, now)}, chain time ${now})`);
  if (decoded) io.out(`  prediction  ${decoded.prediction}  outputs [${decoded.values.map((v) => v.toFixed(5)).join(", ")}]`);
  else io.out(`  output      ${claim.outputLeaves.length} leaves (give --model or --models to decode): ${claim.outputLeaves.join(" ")}`);
  io.out(`  callback    ${result.callback ?? "none"}`);
  if (settlement) io.out(`  bond        ${settlementText(settlement, openGames)}`);
  io.out(`  games       ${games.length === 0 ? "none" : `${games.length} (m = ${ctx.splitBits}: a round reveals ${2 ** ctx.splitBits} nodes)`}`);
  for (const g of games) io.out(`    game ${g.gameId} by ${g.challenger}: ${gameText(g)}`);
}

export const statusCommand: Command = {
  name: "status",
  summary: "show the oracle's requests and claims, or one claim and its games",
  usage: "mlvm status [CLAIM_ID] [--model FILE|--models DIR] [--deployments FILE] [--rpc URL] [--json]",
  options: { ...MODEL_OPTIONS, ...CHAIN_OPTIONS },
  details: [
    "Without a claim id: every request and claim on the oracle (from its events since deployment), each claim",
    "with its status (open, void: it lost a game, final), claimant, deadline and the games against it, and for a",
    "void claim what became of its bond. With one: its details and, for each game, the round (a round reveals",
    "2^m nodes of the trace tree and the challenger picks one: ⌈depth / m⌉ rounds), the steps still disputed,",
    "whether the disputed node is revealed, whose move it is and both clocks, or how the game ended. The output",
    "is decoded when the model is given (--model or --models), else printed as the raw output leaves. Read-only:",
    "no key is needed (any key or account given is only used to connect). Wei amounts are decimal strings.",
    "",
    '--json without a claim id: {"chainId", "oracle", "block", "timestamp" (chain time), "splitBits" (m),',
    '"burned" (wei burned by the oracle so far), "requests": [{"requestId", "modelId", "requester", "callback",',
    '"status": open|claimed|fulfilled}], "claims": [{"claimId", "requestId", "status": open|void|final, "claimant",',
    '"deadline", "secondsLeft", "openGames", "games": [{"gameId", "challenger", "defenderWon": null while open},',
    '"settlement"}]}. "settlement" is null unless the claim is void: {"settled" (its last game ended: ClaimSettled),',
    '"winners" (challengers that won), "share" (wei to each, besides its bond back; null until settled), "burned"',
    "(wei; null until settled)}.",
    "",
    '--json with a claim id: {"claimId", "requestId", "modelId", "steps" (N), "status", "claimant", "traceRoot",',
    '"finalState", "deadline", "now", "secondsLeft", "openGames", "finalizable", "output", "prediction" (null',
    'without the model), "outputLeaves", "callback", "splitBits", "settlement" (as above), "games": [{"gameId",',
    '"challenger", "active", "depth", "traceDepth", "levels" (levels the disputed node opens: min(m, traceDepth −',
    'depth), 0 at the leaf), "round" (1-based; null at the leaf), "rounds", "steps" ([first, last] disputed),',
    '"node" (the disputed node), "revealed" (its 2^levels descendants are on-chain; null at the leaf), "revealedAt",',
    '"turn": defender|challenger|null (over), "move": reveal|choose|prove|null, "timeoutPossible" (the mover\'s',
    'clock ran out or the claim is void: anyone may call timeout()), "defenderClock", "challengerClock" (seconds',
    'left), "result" (null while active, e.g. "challenger won (step 1234 proved on-chain)"), "rewardDue" (a',
    "winner's share still to collect with collectReward; null unless the challenger won)}]}.",
  ].join("\n"),
  async run(positionals, values, io) {
    if (positionals.length > 1) throw new UsageError(`expected at most one CLAIM_ID, got ${positionals.length}: ${positionals.join(" ")}`);
    checkModelOptions(values, false);
    const claimId = positionals.length === 1 ? parseId(positionals[0], "CLAIM_ID") : undefined;
    await withChain(values, (chain) => (claimId === undefined ? overview(chain, values, io) : detail(chain, claimId, values, io)), { readOnly: true });
  },
};
