/**
 * The scripted parties of the flood scenarios, each a step run once per new block (Stage.everyBlock). They follow
 * the game contract's events rather than reading every game every block, so that they load the node no more
 * than they must (the node serves the honest daemon too):
 *   - a revealer answering for claims from trees it holds (a liar's lying trees): every block it reveals, in one
 *     multicall, each node a game against those claims waits on — reveals are anyone's, so one key serves every
 *     claim — optionally only for the games of some challengers;
 *   - challengers that each play one game along a path of their choosing: a target leaf (whose digits are the
 *     picks, round by round), stalling each move until their clock has only a reserve per move left, and at the
 *     leaf either proving (with arguments they supply) or letting the clock run out.
 */
import type { ethers } from "ethers";
import { DEFAULT_GAS_BUDGET, batchGasLimit, estimateEach, packUrgentFirst } from "../challenger/agent-batch.js";
import { revealMove, roundsOf } from "../challenger/moves.js";
import { type GameView, position, revealedNodes, turnOf } from "../challenger/protocol.js";
import type { TraceTree } from "../challenger/trace-tree.js";
import { toHex } from "../vm/hash.js";
import type { Stage } from "./flood-env.js";

export interface BotRecord {
  /** Hashes of the transactions it sent (for their fees). */
  txs: string[];
  /** Moves it made (reveals, choices, proofs). */
  moves: number;
}

/** The decoded logs `contract` emitted in blocks from … to. */
async function logsOf(contract: ethers.Contract, from: number, to: number): Promise<ethers.LogDescription[]> {
  if (from > to) return [];
  const logs = await contract.runner!.provider!.getLogs({ address: contract.target as string, fromBlock: from, toBlock: to });
  return logs.map((l) => contract.interface.parseLog(l)).filter((e): e is ethers.LogDescription => e !== null);
}

/**
 * Reveals for the games against the claims in `trees` (claim id → the tree the claim was made from), sent by
 * `wallet`; `serves` picks the games by their challenger (default: all).
 */
export function revealer(stage: Stage, wallet: ethers.Wallet, trees: Map<string, TraceTree>, serves: (challenger: string) => boolean = () => true) {
  const { oracle, game } = stage.owner;
  const m = stage.owner.deployments.params.splitBits;
  const record: BotRecord = { txs: [], moves: 0 };
  /** Each game served: its claim and disputed node (from GameStarted, then its Chosen events). */
  const games = new Map<string, { claimId: string; depth: number; index: number; traceDepth: number; node: string }>();
  const revealed = new Set<string>();
  let scanned = stage.owner.deployments.fromBlock ?? 0;
  const step = async (block: ethers.Block) => {
    const [challenges, moves] = await Promise.all([logsOf(oracle, scanned + 1, block.number), logsOf(game, scanned + 1, block.number)]);
    scanned = block.number;
    for (const e of moves) {
      if (e.name === "Revealed") revealed.add(`${(e.args.node as string).toLowerCase()}:${e.args.levels}`);
      const g = e.name === "Revealed" ? undefined : games.get(String(e.args.gameId));
      if (!g) continue;
      if (e.name === "Chosen") Object.assign(g, { depth: Number(e.args.depth), index: Number(e.args.index), node: (e.args.node as string).toLowerCase() });
      else if (e.name === "Proved" || e.name === "TimedOut") games.delete(String(e.args.gameId));
    }
    const fresh = challenges.filter((e) => e.name === "Challenged" && trees.has(String(e.args.claimId)) && serves((e.args.challenger as string).toLowerCase()));
    const views = await Promise.all(fresh.map((e) => position(stage.owner, e.args.gameId as bigint)));
    fresh.forEach((e, k) => {
      const v = views[k];
      if (v.active) games.set(String(e.args.gameId), { claimId: String(e.args.claimId), depth: v.depth, index: v.index, traceDepth: v.traceDepth, node: v.node });
    });
    const calls = new Map<string, string>();
    for (const g of games.values()) {
      if (g.depth === g.traceDepth) continue;
      const levels = Math.min(m, g.traceDepth - g.depth);
      const key = `${g.node}:${levels}`;
      if (revealed.has(key) || calls.has(key)) continue;
      const r = revealMove(trees.get(g.claimId)!, { depth: g.depth, index: g.index, traceDepth: g.traceDepth, agreedHeight: 0, levels });
      calls.set(key, game.interface.encodeFunctionData("reveal", [g.node, levels, r.nodes.map(toHex)]));
    }
    if (calls.size === 0) return;
    const list = [...calls.values()];
    const estimates = await estimateEach(stage.provider, wallet.address, list.map((data) => ({ to: game.target as string, data })));
    const ready = list.flatMap((data, k) => ("gas" in estimates[k] ? [{ data, gas: estimates[k].gas, urgency: 0 }] : []));
    if (ready.length === 0) return;
    const { batch } = packUrgentFirst(ready, DEFAULT_GAS_BUDGET);
    const tx = await wallet.sendTransaction({ to: game.target as string, data: game.interface.encodeFunctionData("multicall", [batch.map((c) => c.data)]), gasLimit: batchGasLimit(batch.map((c) => c.gas)) });
    record.txs.push(tx.hash);
    const receipt = (await tx.wait())!;
    for (const log of receipt.logs) {
      const e = game.interface.parseLog(log);
      if (e?.name === "Revealed") {
        revealed.add(`${(e.args.node as string).toLowerCase()}:${e.args.levels}`);
        record.moves++;
      }
    }
  };
  return { step, record };
}

export interface Attack {
  gameId: bigint;
  wallet: ethers.Wallet;
  /** The leaf it heads for: its picks are this index's digits in base 2^levels, round by round. */
  target: number;
  /** At the leaf: prove with these arguments, or (undefined) let its clock run out. */
  proveArgs?: (p: GameView) => unknown[];
  /** Seconds of clock kept per move still to make: it moves only when its clock is down to that (Infinity: at once). */
  reservePerMove: number;
}

/**
 * Plays each attack's game from its own key, as the attack says; `splitBits` is the deployment's m. A game is
 * read only when something can have changed for it: the reveal it waits on, or the time it stalls until.
 */
export function challengers(stage: Stage, attacks: Attack[], splitBits: number) {
  const { game } = stage.owner;
  const record: BotRecord = { txs: [], moves: 0 };
  type Wake = { read: true } | { node: string } | { at: number };
  const active = new Map<Attack, { wake: Wake; sent?: string }>(attacks.map((a) => [a, { wake: { read: true } }]));
  const revealed = new Map<string, string[]>();
  let scanned = stage.owner.deployments.fromBlock ?? 0;
  const step = async (block: ethers.Block) => {
    const reveals = new Set((await logsOf(game, scanned + 1, block.number)).filter((e) => e.name === "Revealed").map((e) => (e.args.node as string).toLowerCase()));
    scanned = block.number;
    // A move sent now lands in the next block at the earliest: judge the clock as it will stand then.
    const next = block.timestamp + 12;
    const due = [...active].filter(([, s]) => "read" in s.wake || ("node" in s.wake && reveals.has(s.wake.node)) || ("at" in s.wake && next >= s.wake.at));
    const views = await Promise.all(due.map(([a]) => position(stage.owner, a.gameId)));
    const sends: Promise<void>[] = [];
    for (const [k, [a, s]] of due.entries()) {
      const p = views[k];
      const at = `${p.depth}:${p.index}`;
      if (!p.active) {
        active.delete(a);
        continue;
      }
      if (s.sent === at) continue; // our move has not landed yet: read again next block
      const t = turnOf(p, next);
      if (t.defenderToMove) {
        s.wake = { node: p.node };
        continue;
      }
      const movesLeft = roundsOf(p.traceDepth - p.depth, splitBits) + 1; // the choices left, and the proof
      const slack = t.left - t.used - movesLeft * a.reservePerMove;
      if (slack > 0) {
        s.wake = { at: next + slack };
        continue;
      }
      let data: string;
      if (p.levels > 0) {
        const key = `${p.node}:${p.levels}`;
        if (!revealed.has(key)) revealed.set(key, (await revealedNodes(stage.owner, p.node, p.levels))!);
        const pick = (a.target >> (p.traceDepth - p.depth - p.levels)) & (2 ** p.levels - 1);
        data = game.interface.encodeFunctionData("choose", [a.gameId, revealed.get(key)!, pick]);
      } else if (a.proveArgs) data = game.interface.encodeFunctionData("prove", [a.gameId, ...a.proveArgs(p)]);
      else {
        active.delete(a); // it lets its clock run out at the leaf
        continue;
      }
      s.sent = at;
      s.wake = { read: true };
      sends.push(
        (async () => {
          const tx = await a.wallet.sendTransaction({ to: game.target as string, data, gasLimit: p.levels > 0 ? 300_000n : 1_000_000n });
          record.txs.push(tx.hash);
          record.moves++;
        })(),
      );
    }
    await Promise.all(sends);
  };
  return { step, record };
}

/** `count` distinct random leaves in [from, to). */
export function distinctLeaves(count: number, from: number, to: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(from + Math.floor(Math.random() * (to - from)));
  return [...chosen];
}
