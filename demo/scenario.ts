/**
 * The demo (`mlvm demo`, and the dispute benchmark): a whole inference dispute on a real local chain, every
 * party a real agent talking JSON-RPC.
 *   1. a Hardhat node starts; the contracts are deployed; the bundled MNIST model is registered;
 *   2. a consumer contract (DigitConsumer) asks for two digits to be classified: two requests;
 *   3. an honest proposer claims the first; a fraudulent proposer claims the second with every state wrong from
 *      a chosen step on (so its output is wrong too);
 *   4. a challenger daemon re-executes both, challenges the fraud and plays the k-ary dissection game against the
 *      fraudulent proposer's daemon (which defends its lie): each round the disputed node's 2^m descendants are
 *      revealed and the challenger disputes one, down to one step, proven on-chain; the void claim's bond is
 *      settled (half burned, half to the challenger, with its own bond back);
 *   5. the honest proposer claims the reopened request; the window passes (time travel on the local chain);
 *      its daemon finalizes both claims and the consumer receives both digits; everyone withdraws.
 * Progress is reported line by line through `say`, the dispute as the contracts' events record it (so it reads
 * the same however the daemons batch their moves); the summary carries the figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { Agent } from "../challenger/agent.js";
import { type Chain, hardhatKey, openChain } from "../challenger/chain.js";
import { ClaimBook } from "../challenger/claim-book.js";
import { inputLeaves, modelFields } from "../challenger/claims.js";
import { type ProtocolParams, eventsIn } from "../challenger/protocol.js";
import { DEFAULT_PARAMS, deployTo, writeDeployments } from "../challenger/deployments.js";
import type { Logger, LogFields } from "../challenger/log.js";
import { disputedSteps, roundAt, roundsOf } from "../challenger/moves.js";
import { ModelShelf } from "../challenger/models.js";
import { proposeClaim } from "../challenger/proposer.js";
import { findRequest, outputFromLeaves } from "../challenger/requests.js";
import { sendTx } from "../challenger/revert.js";
import { loadMnist } from "../datasets/mnist.js";
import { loadArtifact } from "../evm/artifacts.js";
import { decodeOutput, encodeInput } from "../interpreter/run.js";
import { advanceTime, startLocalNode } from "../localchain/local-node.js";
import { MlvmError } from "../vm/errors.js";
import { toHex } from "../vm/hash.js";
import { BUNDLED_MODELS, FIXTURES, compileBundled, describeStateSource } from "./models.js";

/** The demo's chain parameters: a window and clocks far longer than the dispute takes. */
export const DEMO_PARAMS: ProtocolParams = { claimBond: ethers.parseEther("1"), challengeBond: ethers.parseEther("0.5"), window: 600, clock: 300, splitBits: DEFAULT_PARAMS.splitBits };

/** Hardhat accounts by role. */
const ROLES = { owner: 0, consumer: 1, honest: 2, fraud: 3, challenger: 4 } as const;
type Role = keyof typeof ROLES;

export interface DemoOptions {
  /** The bundled model (demo/models.ts) the consumer asks: "mnist-mlp" (default) or "lenet5". */
  model?: string;
  /** The fraudulent claim's first wrong state (default: a random step). */
  lieAtStep?: number;
  /** The MNIST test images the consumer asks about. */
  digits?: [number, number];
  /** Progress lines. */
  say?: (line: string) => void;
  /** Every agent's structured log lines, for --verbose. */
  log?: Logger;
  /** Aborting it (mlvm demo wires SIGINT/SIGTERM to it) stops the local chain; the demo then fails at its next call. */
  signal?: AbortSignal;
}

/** One transaction of the dispute, as the chain recorded it (read from the game's and the oracle's events). */
export interface DisputeMove {
  move: "challenge" | "reveal" | "choose" | "prove" | "timeout";
  /** The round (1-based) a reveal or choice belongs to. */
  round?: number;
  /** The trace steps disputed when the move was made. */
  steps?: [number, number];
  /** A reveal: the levels it opens and the nodes it posts (2^levels). */
  levels?: number;
  nodes?: number;
  /** A choice: which of the revealed nodes (0-based) the challenger disputes, and the steps under it. */
  pick?: number;
  next?: [number, number];
  /** The proof: the step proved, and whether the defender's state survived it. */
  step?: number;
  /** The proof: the instruction whose step leads to that state (demo/models.ts describeStateSource), and its layer. */
  instruction?: string;
  defenderWon?: boolean;
  /** Who sent the transaction (a demo role, or the address). */
  by: string;
  /** Gas of the move's transaction; 0 for a move that shared a transaction counted on an earlier move. */
  gas: number;
  transactionHash: string;
}

/** What became of the void claim's bond: each winner's share (besides its bond back) and the part burned. */
export interface DemoSettlement {
  winners: number;
  shareWei: string;
  burnedWei: string;
  challengeBondWei: string;
}

export interface DemoSummary {
  chainId: number;
  /** The bundled model's name, and its commitment-derived id on the chain. */
  model: string;
  modelId: string;
  lieAtStep: number;
  /** The instruction (and layer) whose step made the first wrong state. */
  lieInstruction: string;
  /** m: each round reveals 2^m nodes. */
  splitBits: number;
  /** From the fraudulent claim's receipt to the claim being void, in milliseconds. */
  disputeWallMs: number;
  rounds: number;
  moves: DisputeMove[];
  /** Gas of the challenge and every move of the game, the proof included. */
  disputeGas: number;
  claimGas: number;
  settlement: DemoSettlement;
  /** Wei the oracle has burned by the end of the demo (the void claim's burned part). */
  burned: string;
  /** Wei gained (+) or lost (−) by each role over the whole demo, gas included. */
  balanceChange: Record<Role, string>;
  results: { requestId: string; digit: number; label: number; delivered: number }[];
  totalWallMs: number;
}

/** A model name that is not one of the bundled models. */
export class DemoModelError extends MlvmError {}

/** A demo step did not reach its goal in time. */
export class DemoStalledError extends MlvmError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new DemoStalledError(`demo stalled: ${what} did not happen within ${seconds} s`);
    await sleep(50);
  }
}

const fmtGas = (n: number | bigint) => Number(n).toLocaleString("en-US");
const fmtEth = (wei: bigint) => `${wei >= 0n ? "+" : "−"}${ethers.formatEther(wei < 0n ? -wei : wei)}`;
const range = ([a, b]: [number, number]) => (a === b ? `step ${a}` : `steps ${a}–${b}`);

/**
 * Follows one claim's dispute on the chain, whoever plays it and however the daemons batch their moves: the
 * challenge (oracle), then each round's reveal of the disputed node (keyed by the node: the first round's is the
 * claim's trace root, each later one the node the last choice picked), the choice, and the proof or timeout. Each
 * poll reads only the blocks it has not read; `say` gets a line per finished round.
 */
class DisputeWatch {
  readonly moves: DisputeMove[] = [];
  settled: ethers.LogDescription | undefined;
  private gameId: bigint | undefined;
  private node = "";
  private depth = 0;
  private index = 0n;
  private cursor: number;
  private readonly counted = new Set<string>();
  private readonly names = new Map<string, string>();
  private readonly reveals = new Map<string, { e: ethers.LogDescription; log: ethers.Log }>();

  constructor(
    private readonly chain: Chain,
    private readonly claim: { claimId: bigint; traceRoot: string; fromBlock: number },
    private readonly shape: { traceDepth: number; steps: number; splitBits: number; rounds: number },
    roles: Record<string, string>,
    private readonly say: (line: string) => void,
    private readonly describe: (step: number) => string,
  ) {
    this.cursor = claim.fromBlock;
    this.node = claim.traceRoot.toLowerCase();
    for (const [role, address] of Object.entries(roles)) this.names.set(address.toLowerCase(), role);
  }

  /** The game ended (by proof or timeout) and the claim's bond was settled. */
  get over(): boolean {
    return this.settled !== undefined && this.moves.some((m) => m.move === "prove" || m.move === "timeout");
  }

  async poll(): Promise<void> {
    const head = await this.chain.provider.getBlockNumber();
    if (head < this.cursor) return;
    const { oracle, game } = this.chain;
    await this.chain.logs.forEachChunk({ address: [oracle.target as string, game.target as string] }, this.cursor, head, async (logs, chunkEnd) => {
      for (const log of logs) {
        const fromOracle = log.address.toLowerCase() === (oracle.target as string).toLowerCase();
        const e = (fromOracle ? oracle : game).interface.parseLog(log);
        if (e) await this.apply(e, log);
      }
      this.cursor = chunkEnd + 1;
    });
  }

  private async apply(e: ethers.LogDescription, log: ethers.Log): Promise<void> {
    const ours = (id: unknown) => this.gameId !== undefined && BigInt(id as bigint) === this.gameId;
    const steps = () => disputedSteps(this.depth, Number(this.index), this.shape.traceDepth, this.shape.steps);
    const round = () => roundAt(this.depth, this.shape.splitBits);
    if (e.name === "Challenged" && BigInt(e.args.claimId) === this.claim.claimId && this.gameId === undefined) {
      this.gameId = e.args.gameId as bigint;
      const m = await this.record(log, { move: "challenge" });
      this.say(`${m.by} re-executed the claim: its trace root is wrong → challenge (game ${this.gameId}), ${fmtGas(m.gas)} gas`);
      await this.revealOfNode();
    } else if (e.name === "Revealed") {
      // A reveal may come before its node is disputed (anyone may reveal any node): kept until it is.
      this.reveals.set((e.args.node as string).toLowerCase(), { e, log });
      await this.revealOfNode();
    } else if (e.name === "Chosen" && ours(e.args.gameId)) {
      const before = { round: round(), steps: steps() };
      const reveal = [...this.moves].reverse().find((m) => m.move === "reveal");
      const levels = Number(e.args.depth) - this.depth;
      const pick = Number(BigInt(e.args.index) - (this.index << BigInt(levels)));
      this.depth = Number(e.args.depth);
      this.index = BigInt(e.args.index);
      this.node = (e.args.node as string).toLowerCase();
      const m = await this.record(log, { move: "choose", ...before, pick, next: steps() });
      await this.revealOfNode();
      const revealText = reveal && reveal.round === before.round ? `${reveal.by} reveals the ${reveal.nodes} nodes ${levels} levels down, ${fmtGas(reveal.gas)} gas` : "its nodes were revealed already";
      this.say(`round ${before.round}/${this.shape.rounds}  ${range(before.steps)}: ${revealText}; the challenger disputes #${pick + 1} of ${2 ** levels}, ${fmtGas(m.gas)} gas → ${range(m.next!)}`);
    } else if (e.name === "Proved" && ours(e.args.gameId)) {
      const step = Number(e.args.step);
      const m = await this.record(log, { move: "prove", step, instruction: this.describe(step), defenderWon: e.args.defenderWon as boolean });
      this.say(`one-step proof of step ${m.step} (${m.instruction}) on-chain by ${m.by}: ${m.defenderWon ? "the claim's state holds (the challenger loses)" : "the VM's step gives another state than the claim's"}, ${fmtGas(m.gas)} gas`);
    } else if (e.name === "TimedOut" && ours(e.args.gameId)) {
      const m = await this.record(log, { move: "timeout", defenderWon: e.args.defenderWon as boolean });
      this.say(`game ${this.gameId} ended by timeout (sent by ${m.by}): ${m.defenderWon ? "the challenger" : "the defender"} ran out of clock`);
    } else if (e.name === "ClaimSettled" && BigInt(e.args.claimId) === this.claim.claimId) {
      this.settled = e;
    }
  }

  /** Records the reveal of the disputed node once both are known (the challenge seen, the node revealed). */
  private async revealOfNode(): Promise<void> {
    const r = this.reveals.get(this.node);
    if (this.gameId === undefined || !r || this.depth === this.shape.traceDepth) return;
    this.reveals.delete(this.node);
    const steps = disputedSteps(this.depth, Number(this.index), this.shape.traceDepth, this.shape.steps);
    await this.record(r.log, { move: "reveal", round: roundAt(this.depth, this.shape.splitBits), steps, levels: Number(r.e.args.levels), nodes: (r.e.args.nodes as string[]).length });
  }

  /** Adds a move with its transaction's gas (counted once if a batch carried several moves) and sender. */
  private async record(log: ethers.Log, move: Omit<DisputeMove, "by" | "gas" | "transactionHash">): Promise<DisputeMove> {
    const receipt = (await this.chain.provider.getTransactionReceipt(log.transactionHash))!;
    const first = !this.counted.has(log.transactionHash);
    this.counted.add(log.transactionHash);
    const m: DisputeMove = { ...move, by: this.names.get(receipt.from.toLowerCase()) ?? receipt.from, gas: first ? Number(receipt.gasUsed) : 0, transactionHash: log.transactionHash };
    this.moves.push(m);
    return m;
  }
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const say = options.say ?? (() => {});
  const began = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "mlvm-demo-"));
  const bundled = BUNDLED_MODELS[options.model ?? "mnist-mlp"];
  if (!bundled) throw new DemoModelError(`no bundled model "${options.model}" (there are ${Object.keys(BUNDLED_MODELS).join(", ")})`);
  say(`mlvm demo: an MNIST inference of ${bundled.name} disputed on a local Hardhat chain (Hardhat accounts: #1 consumer, #2 honest proposer, #3 fraudulent proposer, #4 challenger)`);
  const node = await startLocalNode({ signal: options.signal });
  const agents: Agent[] = [];
  const running: Promise<void>[] = [];
  try {
    const deploymentsPath = join(dir, "deployments.json");
    const d = await deployTo(node.rpc, hardhatKey(ROLES.owner), DEMO_PARAMS);
    writeDeployments(deploymentsPath, d);
    const chains = {} as Record<Role, Chain>;
    for (const role of Object.keys(ROLES) as Role[]) chains[role] = await openChain({ deployments: deploymentsPath, account: ROLES[role] });
    const startBalance = Object.fromEntries(await Promise.all((Object.keys(ROLES) as Role[]).map(async (r) => [r, await chains[r].provider.getBalance(chains[r].address)]))) as Record<Role, bigint>;
    say(`local chain ${d.chainId} at ${node.rpc}: contracts deployed (claim bond ${ethers.formatEther(DEMO_PARAMS.claimBond)} ETH, challenge bond ${ethers.formatEther(DEMO_PARAMS.challengeBond)} ETH, window ${DEMO_PARAMS.window} s, clock ${DEMO_PARAMS.clock} s)`);

    // The bundled model, registered by its owner.
    const model = compileBundled(bundled);
    const shelf = new ModelShelf();
    const shelved = shelf.add(model, bundled.file);
    const registered = await sendTx(chains.owner.registry, "register", [modelFields(model), `bundled:${bundled.file}`]);
    say(`model ${bundled.name} (${bundled.description}) registered as ${shelved.id} (${model.meta.parameters.toLocaleString("en-US")} parameters, ${model.program.instructions.length} instructions, ${model.meta.steps.toLocaleString("en-US")} steps): ${fmtGas(registered.gasUsed)} gas`);

    // The consumer asks about two digits.
    const mnist = loadMnist(join(FIXTURES, "mnist"));
    const digits = options.digits ?? [0, 1];
    const consumerArtifact = loadArtifact("DigitConsumer");
    const factory = new ethers.ContractFactory(consumerArtifact.abi, consumerArtifact.bytecode, chains.consumer.wallet);
    const consumer = (await (await factory.deploy(d.contracts.InferenceOracle, shelved.id)).waitForDeployment()) as unknown as ethers.Contract;
    const requestIds: bigint[] = [];
    for (const k of digits) {
      const receipt = await sendTx(consumer, "classify", [inputLeaves(encodeInput(model.program, mnist.image(k)))]);
      requestIds.push(eventsIn(receipt, consumer, "Asked")[0].args.requestId as bigint);
    }
    say(`consumer DigitConsumer at ${await consumer.getAddress()} asks about MNIST test images #${digits[0]} (label ${mnist.label(digits[0])}) and #${digits[1]} (label ${mnist.label(digits[1])}): requests ${requestIds.join(" and ")}`);

    // Three daemons: the challenger, and each proposer defending (and finalizing) its own claims. The demo
    // follows the dispute on the chain, not in their logs: what it prints is what the contracts recorded.
    const books = { honest: new ClaimBook(join(dir, "honest-claims.json")), fraud: new ClaimBook(join(dir, "fraud-claims.json")) };
    const pollMs = 25;
    for (const role of ["challenger", "honest", "fraud"] as const) {
      const agent = await Agent.open({
        chain: chains[role],
        models: shelf,
        statePath: join(dir, `${role}-state.json`),
        book: role === "challenger" ? undefined : books[role],
        confirmations: 0,
        challenge: role === "challenger",
        pollMs,
        log: (level, event, fields: LogFields = {}) => options.log?.(level, event, { agent: role, ...fields }),
      });
      agents.push(agent);
      running.push(agent.run());
    }

    // The claims.
    const [r1, r2] = await Promise.all(requestIds.map((id) => findRequest(chains.honest, id)));
    const honest1 = await proposeClaim(chains.honest, shelved, r1, books.honest);
    const predicted = (view: typeof honest1.view) => decodeOutput(model.program, outputFromLeaves(model.program, view.outputLeaves)).prediction;
    say(`honest proposer ${chains.honest.address} claims request ${r1.requestId}: digit ${predicted(honest1.view)}, ${fmtGas(honest1.gasUsed)} gas, bond ${ethers.formatEther(DEMO_PARAMS.claimBond)} ETH`);
    const lieAtStep = options.lieAtStep ?? 1 + Math.floor(Math.random() * model.meta.steps);
    const disputeStart = performance.now();
    const fraud = await proposeClaim(chains.fraud, shelved, r2, books.fraud, { step: lieAtStep });
    const lieInstruction = describeStateSource(model, lieAtStep);
    say(`fraudulent proposer ${chains.fraud.address} claims request ${r2.requestId} with every state wrong from step ${lieAtStep} on (the first one made by ${lieInstruction}; its output says digit ${predicted(fraud.view)}): claim ${fraud.claimId}, ${fmtGas(fraud.gasUsed)} gas`);

    const traceDepth = fraud.view.tree.depth;
    const rounds = roundsOf(traceDepth, DEMO_PARAMS.splitBits);
    say(`the game: trace depth ${traceDepth}, m = ${DEMO_PARAMS.splitBits}: each round reveals ${2 ** DEMO_PARAMS.splitBits} nodes ${DEMO_PARAMS.splitBits} levels down and the challenger disputes one, ${rounds} rounds to a single step`);
    const roleNames = { "honest proposer": chains.honest.address, "fraudulent proposer": chains.fraud.address, challenger: chains.challenger.address };
    const dispute = new DisputeWatch(
      chains.owner,
      { claimId: fraud.claimId, traceRoot: toHex(fraud.view.tree.root), fromBlock: fraud.receipt.blockNumber },
      { traceDepth, steps: model.meta.steps, splitBits: DEMO_PARAMS.splitBits, rounds },
      roleNames,
      say,
      (step) => describeStateSource(model, step),
    );
    const oracle = chains.owner.oracle;
    const VOID = 2n;
    let disputeWallMs = 0;
    await until("the fraudulent claim's dispute", 120, async () => {
      if (!disputeWallMs && BigInt((await oracle.getClaim(fraud.claimId)).status) === VOID) disputeWallMs = performance.now() - disputeStart;
      await dispute.poll();
      return disputeWallMs > 0 && dispute.over;
    });
    const { moves } = dispute;
    const disputeGas = moves.reduce((sum, m) => sum + m.gas, 0);
    const settled = dispute.settled!;
    const settlement: DemoSettlement = {
      winners: Number(settled.args.winners),
      shareWei: (settled.args.share as bigint).toString(),
      burnedWei: (settled.args.burnedAmount as bigint).toString(),
      challengeBondWei: DEMO_PARAMS.challengeBond.toString(),
    };
    say(`claim ${fraud.claimId} is void: request ${r2.requestId} is open again`);
    say(`dispute: ${moves.filter((m) => m.move === "choose").length} rounds, ${fmtGas(disputeGas)} gas in all (challenge, reveals, choices, proof), ${(disputeWallMs / 1000).toFixed(2)} s from the fraudulent claim to resolution`);
    say(
      `settlement of the ${ethers.formatEther(DEMO_PARAMS.claimBond)} ETH claim bond: the challenger gets its ${ethers.formatEther(DEMO_PARAMS.challengeBond)} ETH bond back and a ${ethers.formatEther(settlement.shareWei)} ETH share` +
        `${settlement.winners > 1 ? ` (one of ${settlement.winners} winners)` : ""}; ${ethers.formatEther(settlement.burnedWei)} ETH is burned (nobody gets it, whoever challenges)`,
    );

    // The reopened request gets an honest claim; the window passes; the proposer's daemon finalizes both.
    const honest2 = await proposeClaim(chains.honest, shelved, r2, books.honest);
    say(`honest proposer claims the reopened request ${r2.requestId}: digit ${predicted(honest2.view)}`);
    await advanceTime(chains.owner.provider, DEMO_PARAMS.window + 1);
    say(`… ${DEMO_PARAMS.window} s later (time travel on the local chain) the window has passed; the honest proposer's daemon finalizes both claims`);
    await until("both deliveries to the consumer", 60, async () => (await Promise.all(requestIds.map((id) => consumer.answered(id)))).every(Boolean));
    await until("every credit withdrawn", 60, async () => (await Promise.all([chains.honest, chains.challenger].map((c) => oracle.credit(c.address)))).every((x) => x === 0n));
    for (const agent of agents) agent.stop();
    await Promise.all(running);

    const results = [];
    for (const [k, id] of requestIds.entries()) {
      const delivered = Number(await consumer.digitOf(id));
      results.push({ requestId: id.toString(), digit: digits[k], label: mnist.label(digits[k]), delivered });
      say(`consumer received for request ${id}: digit ${delivered} (MNIST label ${mnist.label(digits[k])})`);
    }
    const balanceChange = {} as Record<Role, string>;
    const lines: string[] = [];
    for (const role of Object.keys(ROLES) as Role[]) {
      const change = (await chains[role].provider.getBalance(chains[role].address)) - startBalance[role];
      balanceChange[role] = change.toString();
      if (role !== "owner" && role !== "consumer") lines.push(`${role === "fraud" ? "fraudulent proposer" : role === "honest" ? "honest proposer" : "challenger"} ${fmtEth(change)}`);
    }
    say(`final balances, change over the demo with gas included (ETH): ${lines.join(", ")}`);
    const burned = ((await oracle.burned()) as bigint).toString();
    return {
      chainId: d.chainId,
      model: bundled.name,
      modelId: shelved.id,
      lieAtStep,
      lieInstruction,
      splitBits: DEMO_PARAMS.splitBits,
      disputeWallMs,
      rounds: moves.filter((m) => m.move === "choose").length,
      moves,
      disputeGas,
      claimGas: Number(fraud.gasUsed),
      settlement,
      burned,
      balanceChange,
      results,
      totalWallMs: performance.now() - began,
    };
  } finally {
    for (const agent of agents) agent.stop();
    await Promise.allSettled(running);
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
