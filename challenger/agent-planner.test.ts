/**
 * The daemon's decision in one game, for each part it may play, against positions built by hand: whose clock runs
 * (the contract's turn() rule, via turnOf), what a reveal that came too late means, the void rule, and which
 * moves carry a clock of ours (urgency) and which do not.
 */
import { describe, expect, it } from "vitest";
import { type GameFacts, NO_CLOCK, intentFor, roleOf } from "./agent-planner.js";
import type { GameView } from "./protocol.js";

const ME = "0x00000000000000000000000000000000000000aa";
const OTHER = "0x00000000000000000000000000000000000000bb";
const CLOCK = 1800;
const T0 = 1_000_000;

/** A game of depth 12 (MNIST), m = 4, at `depth`, started (or last chosen) at T0. */
function view(over: Partial<GameView> = {}): GameView {
  const depth = over.depth ?? 0;
  return {
    depth,
    index: 0,
    traceDepth: 12,
    agreedHeight: 0,
    levels: depth === 12 ? 0 : Math.min(4, 12 - depth),
    active: true,
    claimId: 4294967297n,
    challenger: OTHER,
    challengerWon: false,
    node: "0x" + "11".repeat(32),
    lastMove: T0,
    defenderClock: CLOCK,
    challengerClock: CLOCK,
    revealedAt: 0,
    revealBlock: 0,
    ...over,
  };
}

const facts = (over: Partial<GameFacts> = {}): GameFacts => ({ role: "challenger", claimVoid: false, settleStake: false, honestDefender: false, ...over });

describe("roleOf", () => {
  it("challenger of its own games, defender of its own and of valid claims, else a bystander", () => {
    expect(roleOf({ challenger: ME }, { claimant: OTHER, verdict: "invalid" }, ME)).toBe("challenger");
    expect(roleOf({ challenger: OTHER }, { claimant: ME, verdict: "invalid" }, ME)).toBe("defender"); // our own lie, from the claim book
    expect(roleOf({ challenger: OTHER }, { claimant: OTHER, verdict: "valid" }, ME)).toBe("defender");
    expect(roleOf({ challenger: OTHER }, { claimant: OTHER, verdict: "invalid" }, ME)).toBe("bystander");
    expect(roleOf({ challenger: OTHER }, { claimant: OTHER }, ME)).toBe("bystander"); // not judged yet
  });
});

describe("intentFor", () => {
  it("the defender reveals while its clock runs; urgency is the clock it has left", () => {
    expect(intentFor(view(), facts({ role: "defender" }), T0 + 100)).toEqual({ move: "reveal", urgency: CLOCK - 100 });
    expect(intentFor(view({ defenderClock: 700 }), facts({ role: "defender" }), T0 + 100)).toEqual({ move: "reveal", urgency: 600 });
    // Its clock ran out: a reveal would not save it, so it is not sent; the challenger claims the timeout.
    expect(intentFor(view(), facts({ role: "defender" }), T0 + CLOCK + 1)).toBeUndefined();
    expect(intentFor(view(), facts({ role: "challenger" }), T0 + CLOCK + 1)).toEqual({ move: "timeout", why: "clock", urgency: NO_CLOCK });
    expect(intentFor(view(), facts({ role: "challenger" }), T0 + CLOCK)).toBeUndefined(); // exactly used up is still in time
  });

  it("a reveal that came after the defender's clock ran out leaves the defender to move, and lost", () => {
    const late = view({ revealedAt: T0 + CLOCK + 5 });
    expect(intentFor(late, facts({ role: "defender" }), T0 + CLOCK + 10)).toBeUndefined();
    expect(intentFor(late, facts({ role: "challenger" }), T0 + CLOCK + 10)).toEqual({ move: "timeout", why: "clock", urgency: NO_CLOCK });
  });

  it("once revealed the challenger chooses, its clock running from the later of the reveal and its last move", () => {
    const early = view({ revealedAt: T0 - 50 }); // revealed before the node became disputed (shared by another game)
    expect(intentFor(early, facts(), T0 + 30)).toEqual({ move: "choose", urgency: CLOCK - 30 });
    const later = view({ revealedAt: T0 + 400 });
    expect(intentFor(later, facts(), T0 + 430)).toEqual({ move: "choose", urgency: CLOCK - 30 });
    expect(intentFor(later, facts({ role: "defender" }), T0 + 430)).toBeUndefined();
    // The challenger out of clock: the defender ends the game; the challenger has nothing left to send.
    expect(intentFor(later, facts(), T0 + 400 + CLOCK + 1)).toBeUndefined();
    expect(intentFor(later, facts({ role: "defender" }), T0 + 400 + CLOCK + 1)).toEqual({ move: "timeout", why: "clock", urgency: NO_CLOCK });
  });

  it("at the leaf the challenger proves; the defender of an honest claim proves too, not of its own lie", () => {
    const leaf = view({ depth: 12, index: 1234, challengerClock: 900 });
    expect(intentFor(leaf, facts(), T0 + 100)).toEqual({ move: "prove", urgency: 800 });
    expect(intentFor(leaf, facts({ role: "defender", honestDefender: true }), T0 + 100)).toEqual({ move: "prove", urgency: NO_CLOCK });
    expect(intentFor(leaf, facts({ role: "defender", honestDefender: false }), T0 + 100)).toBeUndefined();
    expect(intentFor(leaf, facts({ role: "defender", honestDefender: false }), T0 + 901)).toEqual({ move: "timeout", why: "clock", urgency: NO_CLOCK });
  });

  it("a void claim: its challenger, and a bystander with a stake in the settlement, end the game at once", () => {
    const p = view({ revealedAt: T0 + 3 });
    expect(intentFor(p, facts({ claimVoid: true }), T0 + 5)).toEqual({ move: "timeout", why: "void", urgency: NO_CLOCK });
    expect(intentFor(p, facts({ role: "bystander", claimVoid: true, settleStake: true }), T0 + 5)).toEqual({ move: "timeout", why: "void", urgency: NO_CLOCK });
    expect(intentFor(p, facts({ role: "bystander", claimVoid: true, settleStake: false }), T0 + 5)).toBeUndefined();
    expect(intentFor(p, facts({ role: "defender", claimVoid: true }), T0 + 5)).toBeUndefined();
    // Without the void rule a bystander never moves.
    expect(intentFor(view(), facts({ role: "bystander", settleStake: true }), T0 + CLOCK + 100)).toBeUndefined();
  });

  it("a game that is over asks for nothing", () => {
    for (const role of ["challenger", "defender", "bystander"] as const) expect(intentFor(view({ active: false }), facts({ role, claimVoid: true, settleStake: true }), T0 + 10_000)).toBeUndefined();
  });
});
