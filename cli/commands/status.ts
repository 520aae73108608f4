import { ethers } from "ethers";
import { type Chain, chainNow } from "../../challenger/chain.js";
import { disputedSteps } from "../../challenger/moves.js";
import { checkModelFor } from "../../challenger/proposer.js";
import { DEFENDER_TURN, clockLeft, position } from "../../challenger/protocol.js";
import { type ClaimInfo, type RequestInfo, claimFromEvent, findClaim, findRequest, outputFromLeaves, parseId, requestFromEvent, requestOfClaim } from "../../challenger/requests.js";
import { decodeOutput } from "../../interpreter/run.js";
import { type Command, UsageError } from "../command.js";
import { CHAIN_OPTIONS, MODEL_OPTIONS, checkModelOptions, describeClaimId, shelvedModel, toJson, withChain } from "../chain-options.js";

const CLAIM_STATUS = ["none", "open", "void", "final"] as const;

const short = (hex: string, keep = 6) => (hex.length > 2 * keep + 4 ? `${hex.slice(0, keep)}…${hex.slice(-4)}` : hex);

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

/** What the oracle's events say, up to block `toBlock`. */
async function scanOracle(chain: Chain, toBlock: number) {
  const logs = await chain.provider.getLogs({ address: chain.deployments.contracts.InferenceOracle, fromBlock: chain.deployments.fromBlock ?? 0, toBlock });
  const requests = new Map<bigint, RequestInfo>();
  const claims = new Map<bigint, ClaimInfo>();
  const games = new Map<bigint, GameSummary[]>();
  const results = new Map<bigint, boolean>();
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
  }
  for (const list of games.values()) for (const g of list) g.defenderWon = results.get(g.gameId) ?? null;
  return { requests, claims, games };
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
  const scan = await scanOracle(chain, block.number);
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
      const games = scan.games.get(c.claimId) ?? [];
      return {
        claimId: c.claimId,
        requestId: c.requestId,
        status: CLAIM_STATUS[Number(onChain.status)],
        claimant: c.claimant,
        deadline: c.deadline,
        secondsLeft: Math.max(0, c.deadline - now),
        openGames: Number(onChain.openGames),
        games,
      };
    }),
  );
  const result = { chainId: chain.chainId, oracle: chain.deployments.contracts.InferenceOracle, block: block.number, timestamp: now, requests, claims };
  if (values.json) return io.out(toJson(result));
  io.out(`oracle ${result.oracle} on chain ${chain.chainId}, block ${block.number} (chain time ${now})`);
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
  }
}

/** How a finished game ended: the step proved at its leaf, or a clock that ran out. */
async function howItEnded(chain: Chain, gameId: bigint, toBlock: number): Promise<string> {
  const from = chain.deployments.fromBlock ?? 0;
  const [proved] = await chain.game.queryFilter(chain.game.filters.Proved(gameId), from, toBlock);
  if (proved) return ` (step ${chain.game.interface.parseLog(proved)!.args.step} proved on-chain)`;
  const [timedOut] = await chain.game.queryFilter(chain.game.filters.TimedOut(gameId), from, toBlock);
  if (timedOut) return ` (the ${chain.game.interface.parseLog(timedOut)!.args.defenderWon ? "challenger" : "defender"}'s clock ran out)`;
  return "";
}

async function detail(chain: Chain, claimId: bigint, values: Record<string, string | boolean | undefined>, io: { out(line: string): void }) {
  const claim = await findClaim(chain, claimId);
  const request = await findRequest(chain, requestOfClaim(claimId));
  const [onChain, model, block] = await Promise.all([chain.oracle.getClaim(claimId), chain.registry.model(request.modelId), chain.provider.getBlock("latest")]);
  const now = chainNow(block!);
  const N = Number(model.steps);
  const shelved = shelvedModel(values, request.modelId);
  if (shelved) checkModelFor(shelved, request);
  const decoded = shelved ? decodeOutput(shelved.model.program, outputFromLeaves(shelved.model.program, claim.outputLeaves)) : undefined;

  const challenged = await chain.oracle.queryFilter(chain.oracle.filters.Challenged(claimId), chain.deployments.fromBlock ?? 0, block!.number);
  const games = await Promise.all(
    challenged.map(async (log) => {
      const e = chain.oracle.interface.parseLog(log)!;
      const gameId = e.args.gameId as bigint;
      const g = await position(chain, gameId);
      const turn = g.turn === DEFENDER_TURN ? "defender" : "challenger";
      let result: string | null = null;
      if (!g.active) {
        const [resolved] = await chain.oracle.queryFilter(chain.oracle.filters.GameResolved(claimId, gameId), chain.deployments.fromBlock ?? 0, block!.number);
        const defenderWon = resolved ? (chain.oracle.interface.parseLog(resolved)!.args.defenderWon as boolean) : null;
        result = defenderWon === null ? "over" : defenderWon ? "claimant won" : "challenger won";
        result += await howItEnded(chain, gameId, block!.number);
      }
      return {
        gameId,
        challenger: e.args.challenger as string,
        active: g.active,
        depth: g.depth,
        traceDepth: g.traceDepth,
        steps: disputedSteps(g.depth, g.index, g.traceDepth, N),
        turn: g.active ? turn : null,
        defenderClock: Math.max(0, clockLeft(g, "defender", now)),
        challengerClock: Math.max(0, clockLeft(g, "challenger", now)),
        result,
      };
    }),
  );

  const status = CLAIM_STATUS[Number(onChain.status)];
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
    openGames: Number(onChain.openGames),
    finalizable: status === "open" && now > claim.deadline && Number(onChain.openGames) === 0,
    output: decoded ? decoded.values : null,
    prediction: decoded ? decoded.prediction : null,
    outputLeaves: claim.outputLeaves,
    callback: request.callback === ethers.ZeroAddress ? null : request.callback,
    games,
  };
  if (values.json) return io.out(toJson(result));
  io.out(`claim ${describeClaimId(claimId)}: ${status}${result.finalizable ? " (window passed, no open game: ready to finalize)" : ""}`);
  io.out(`  model       ${request.modelId} (${N} steps)`);
  io.out(`  claimant    ${claim.claimant}`);
  io.out(`  trace root  ${claim.traceRoot}`);
  io.out(`  deadline    ${claim.deadline} (${timeLeft(claim.deadline, now)}, chain time ${now})`);
  if (decoded) io.out(`  prediction  ${decoded.prediction}  outputs [${decoded.values.map((v) => v.toFixed(5)).join(", ")}]`);
  else io.out(`  output      ${claim.outputLeaves.length} leaves (give --model or --models to decode): ${claim.outputLeaves.join(" ")}`);
  io.out(`  callback    ${result.callback ?? "none"}`);
  io.out(`  games       ${games.length === 0 ? "none" : games.length}`);
  for (const g of games) {
    const where = `round ${g.depth}/${g.traceDepth}, disputed steps ${g.steps[0]}…${g.steps[1]}`;
    const state = g.active
      ? `${g.turn} to ${g.turn === "defender" ? "reveal" : g.depth === g.traceDepth ? "prove" : "choose"}; clocks: defender ${g.defenderClock} s, challenger ${g.challengerClock} s`
      : g.result!;
    io.out(`    game ${g.gameId} by ${g.challenger}: ${g.active ? "active" : "over"}, ${where}; ${state}`);
  }
}

export const statusCommand: Command = {
  name: "status",
  summary: "show the oracle's requests and claims, or one claim and its games",
  usage: "mlvm status [CLAIM_ID] [--model FILE|--models DIR] [--deployments FILE] [--rpc URL] [--json]",
  options: { ...MODEL_OPTIONS, ...CHAIN_OPTIONS },
  details: [
    "Without a claim id: every request and claim on the oracle (from its events since deployment), each claim",
    "with its status (open, void: it lost a game, final), claimant, deadline and the games against it. With one:",
    "its details and, for each game, the round (depth in the trace tree), the steps still disputed, whose move it",
    "is and the clocks left. The output is decoded when the model is given (--model or --models), else printed",
    "as the raw output leaves. Read-only: no key is needed (any key or account given is only used to connect).",
  ].join("\n"),
  async run(positionals, values, io) {
    if (positionals.length > 1) throw new UsageError(`expected at most one CLAIM_ID, got ${positionals.length}: ${positionals.join(" ")}`);
    checkModelOptions(values, false);
    const claimId = positionals.length === 1 ? parseId(positionals[0], "CLAIM_ID") : undefined;
    await withChain(values, (chain) => (claimId === undefined ? overview(chain, values, io) : detail(chain, claimId, values, io)), { readOnly: true });
  },
};
