/**
 * What the daemon does in one game this pass, as a pure function of the game's position (GameView), the daemon's
 * relation to the game and the time. Defender moves are anyone's in protocol v2, so the daemon plays:
 *   - challenger in its own games: choose, prove at the leaf, and timeout a defender whose clock ran out;
 *   - defender in every game against a claim it can answer for — its own claims (honest, or the claim book's lie)
 *     and every claim it judged valid: reveal the disputed node, timeout a challenger whose clock ran out, and,
 *     for an honest claim, prove the leaf itself (the step checks out, so the defender wins without waiting for
 *     the challenger's clock);
 *   - and once a claim is void, it ends with timeout() (challenger wins) every game still open against it in which
 *     it has a stake: its own, and the others, so that the claim settles and its share can be collected.
 * Urgency is the seconds left on the clock that the move stops: the batch takes the least first.
 */
import { type GameView, turnOf } from "./protocol.js";

export type Role = "challenger" | "defender" | "bystander";

/** A move with no clock of ours at stake (timeouts, a defender's proof): after every move that has one. */
export const NO_CLOCK = Number.MAX_SAFE_INTEGER;

/**
 * The daemon's part in a game: challenger if it opened it; defender if the claim is its own or it judged the claim
 * valid; otherwise a bystander (someone else's game against a claim it did not judge valid).
 */
export function roleOf(game: { challenger: string }, claim: { claimant: string; verdict?: string }, me: string): Role {
  if (game.challenger === me) return "challenger";
  if (claim.claimant === me || claim.verdict === "valid") return "defender";
  return "bystander";
}

export interface GameFacts {
  role: Role;
  /** The game's claim lost a game already: every game against it ends at once for its challenger. */
  claimVoid: boolean;
  /** We challenged the (void) claim too: ending the other games settles it, and then we collect our share. */
  settleStake: boolean;
  /** Our tree of the claim is the honest run's (a valid claim): as defender we may prove its leaf ourselves. */
  honestDefender: boolean;
}

export type Intent =
  | { move: "reveal"; urgency: number }
  | { move: "choose"; urgency: number }
  | { move: "prove"; urgency: number }
  | { move: "timeout"; why: "clock" | "void"; urgency: number };

/**
 * Our move in the game at `now` (the chain time the next block will at least have), or undefined if there is none:
 * not our turn, the game is over, or our own clock ran out (then only the opponent can end it).
 */
export function intentFor(p: GameView, f: GameFacts, now: number): Intent | undefined {
  if (!p.active) return undefined;
  if (f.claimVoid) {
    // The void rule: timeout() decides the game for its challenger, whatever the clocks say.
    return f.role === "challenger" || (f.role === "bystander" && f.settleStake) ? { move: "timeout", why: "void", urgency: NO_CLOCK } : undefined;
  }
  if (f.role === "bystander") return undefined;
  const t = turnOf(p, now);
  const expired = t.used > t.left;
  const left = t.left - t.used;
  if (t.defenderToMove) {
    if (f.role === "challenger") return expired ? { move: "timeout", why: "clock", urgency: NO_CLOCK } : undefined;
    // A reveal after the defender's clock ran out does not save it; one already on-chain means exactly that.
    return expired || p.revealedAt !== 0 ? undefined : { move: "reveal", urgency: left };
  }
  if (f.role === "defender") {
    if (expired) return { move: "timeout", why: "clock", urgency: NO_CLOCK };
    return p.levels === 0 && f.honestDefender ? { move: "prove", urgency: NO_CLOCK } : undefined;
  }
  if (expired) return undefined;
  return { move: p.levels === 0 ? "prove" : "choose", urgency: left };
}
