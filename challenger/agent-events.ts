/**
 * How the daemon's state follows the oracle: each event (from a scan of the chain or from one of its own
 * receipts) applied to the state file's records, and said in the log when it is news. Idempotent: receipts and
 * scans may both deliver an event. Every change records the block of the event that made it, which is what
 * agent-reorg.ts undoes when that block is dropped.
 */
import type { ethers } from "ethers";
import type { AgentStateData } from "./agent-state.js";
import { roleOf } from "./agent-planner.js";
import type { Logger } from "./log.js";
import { claimFromEvent, requestFromEvent } from "./requests.js";

export interface EventContext {
  /** This key's address, lower case. */
  me: string;
  log: Logger;
  /** Whether the daemon holds the model with this id: requests on other models are not kept (spam costs nothing). */
  holds(modelId: string): boolean;
}

/** Applies one InferenceOracle event, emitted in `block`, to the daemon's state. */
export function applyOracleEvent(s: AgentStateData, e: ethers.LogDescription, block: number, ctx: EventContext): void {
  const { me, log } = ctx;
  switch (e.name) {
    case "InferenceRequested": {
      const r = requestFromEvent(e);
      if (ctx.holds(r.modelId)) s.requests[r.requestId.toString()] ??= block;
      break;
    }
    case "Claimed": {
      const c = claimFromEvent(e);
      const id = c.claimId.toString();
      if (s.claims[id]) break;
      s.claims[id] = { requestId: c.requestId.toString(), block, claimant: c.claimant.toLowerCase(), traceRoot: c.traceRoot.toLowerCase(), deadline: c.deadline, status: "open" };
      log("info", "claim-seen", { claim: id, request: c.requestId, claimant: c.claimant, own: c.claimant.toLowerCase() === me, deadline: c.deadline });
      break;
    }
    case "Challenged": {
      // Every challenge of every claim we know: we may defend the claim (ours, or one we judge valid, perhaps
      // only later) or end the game once the claim is void.
      const [claimId, gameId, challenger] = e.args as unknown as [bigint, bigint, string];
      const id = claimId.toString();
      const claim = s.claims[id];
      if (!claim || s.games[gameId.toString()]) break;
      const ours = challenger.toLowerCase() === me;
      s.games[gameId.toString()] = { claimId: id, challenger: challenger.toLowerCase(), fromBlock: block };
      if (ours) {
        claim.challengeGame = gameId.toString();
        s.totals.challenged++;
      } else log("info", claim.claimant === me ? "defending" : "challenge-seen", { claim: claimId, game: gameId, challenger, verdict: claim.verdict });
      // Our own challenge is logged by the transaction that sent it.
      break;
    }
    case "GameResolved": {
      const [claimId, gameId, defenderWon] = e.args as unknown as [bigint, bigint, boolean];
      const game = s.games[gameId.toString()];
      if (!game || game.defenderWon !== undefined) break;
      game.defenderWon = defenderWon;
      game.endBlock = block;
      const claim = s.claims[game.claimId];
      const role = roleOf(game, claim, me);
      if (role === "bystander") break;
      const own = claim.claimant === me;
      const won = (role === "defender") === defenderWon;
      if (role === "challenger" || own) game.counted = won ? "won" : "lost";
      else if (won) game.counted = "defended";
      if (game.counted) s.totals[game.counted]++;
      log(won ? "info" : "error", "game-over", { game: gameId, claim: claimId, role, ...(role === "defender" ? { own } : {}), result: won ? "won" : "lost" });
      break;
    }
    case "ClaimVoided": {
      const [claimId, , winner] = e.args as unknown as [bigint, bigint, string];
      const claim = s.claims[claimId.toString()];
      if (!claim || claim.status !== "open") break;
      claim.status = "void";
      claim.statusBlock = block;
      log("info", "claim-void", { claim: claimId, request: claim.requestId, own: claim.claimant === me, winner, byUs: winner.toLowerCase() === me });
      break;
    }
    case "ClaimSettled": {
      const [claimId, winners, share, burned] = e.args as unknown as [bigint, bigint, bigint, bigint];
      const claim = s.claims[claimId.toString()];
      if (!claim || claim.settledWinners !== undefined) break;
      claim.settledWinners = Number(winners);
      claim.settledBlock = block;
      const ourGame = claim.challengeGame === undefined ? undefined : s.games[claim.challengeGame];
      // Settlement pays the sole winner at once only if its win ended the last game: gameOfChallenger says.
      if (ourGame?.defenderWon === false) claim.rewardToCheck = true;
      log("info", "claim-settled", { claim: claimId, winners, shareWei: share, burnedWei: burned, ours: ourGame?.defenderWon === false });
      break;
    }
    case "Finalized": {
      const claimId = (e.args[0] as bigint).toString();
      const claim = s.claims[claimId];
      if (!claim || claim.status !== "open") break;
      claim.status = "final";
      claim.statusBlock = block;
      log("info", "claim-final", { claim: claimId, request: claim.requestId, own: claim.claimant === me });
      break;
    }
    case "Credited": {
      if ((e.args[0] as string).toLowerCase() === me) s.creditDue = true;
      break;
    }
  }
}
