/**
 * The demo (`mlvm demo`, and the dispute benchmark): a whole inference dispute on a real local chain, every
 * party a real agent talking JSON-RPC.
 *   1. a Hardhat node starts; the contracts are deployed; the bundled MNIST model is registered;
 *   2. a consumer contract (DigitConsumer) asks for two digits to be classified: two requests;
 *   3. an honest proposer claims the first; a fraudulent proposer claims the second with every state wrong from
 *      a chosen step on (so its output is wrong too);
 *   4. a challenger daemon re-executes both, challenges the fraud and plays the bisection game against the
 *      fraudulent proposer's daemon (which defends its lie) down to one step, proven on-chain;
 *   5. the honest proposer claims the reopened request; the window passes (time travel on the local chain);
 *      its daemon finalizes both claims and the consumer receives both digits; everyone withdraws.
 * Progress is reported line by line through `say`; the summary carries the figures.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { Agent } from "../challenger/agent.js";
import { type Chain, hardhatKey, openChain } from "../challenger/chain.js";
import { ClaimBook } from "../challenger/claim-book.js";
import { inputLeaves, modelFields } from "../challenger/claims.js";
import { type ProtocolParams, eventsIn } from "../challenger/protocol.js";
import { DEFAULT_PARAMS, deployTo, writeDeployments } from "../challenger/deployments.js";
import type { Logger, LogFields } from "../challenger/log.js";
import { ModelShelf } from "../challenger/models.js";
import { proposeClaim } from "../challenger/proposer.js";
import { findRequest, outputFromLeaves } from "../challenger/requests.js";
import { sendTx } from "../challenger/revert.js";
import { compileGraph } from "../compiler/compile.js";
import { importOnnx } from "../compiler/onnx.js";
import { loadMnist } from "../datasets/mnist.js";
import { loadArtifact } from "../evm/artifacts.js";
import { decodeOutput, encodeInput } from "../interpreter/run.js";
import { advanceTime, startLocalNode } from "../localchain/hardhat-node.js";
import { MlvmError } from "../vm/errors.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** The demo's chain parameters: a window and clocks far longer than the dispute takes. */
export const DEMO_PARAMS: ProtocolParams = { claimBond: ethers.parseEther("1"), challengeBond: ethers.parseEther("0.5"), window: 600, clock: 300, splitBits: DEFAULT_PARAMS.splitBits };

/** Hardhat accounts by role. */
const ROLES = { owner: 0, consumer: 1, honest: 2, fraud: 3, challenger: 4 } as const;
type Role = keyof typeof ROLES;

export interface DemoOptions {
  /** The fraudulent claim's first wrong state (default: a random step). */
  lieAtStep?: number;
  /** The MNIST test images the consumer asks about. */
  digits?: [number, number];
  /** Progress lines. */
  say?: (line: string) => void;
  /** Every agent's structured log lines, for --verbose. */
  log?: Logger;
}

export interface DisputeMove {
  move: "challenge" | "reveal" | "choose" | "prove";
  round?: number;
  steps?: [number, number];
  gas: number;
}

export interface DemoSummary {
  chainId: number;
  modelId: string;
  lieAtStep: number;
  /** From the fraudulent claim's receipt to the claim being void, in milliseconds. */
  disputeWallMs: number;
  rounds: number;
  moves: DisputeMove[];
  /** Gas of the challenge and every move of the game. */
  disputeGas: number;
  claimGas: number;
  /** Wei gained (+) or lost (−) by each role over the whole demo, gas included. */
  balanceChange: Record<Role, string>;
  results: { requestId: string; digit: number; label: number; delivered: number }[];
  totalWallMs: number;
}

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

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const say = options.say ?? (() => {});
  const began = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "mlvm-demo-"));
  say("mlvm demo: an MNIST inference disputed on a local Hardhat chain (Hardhat accounts: #1 consumer, #2 honest proposer, #3 fraudulent proposer, #4 challenger)");
  const node = await startLocalNode();
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
    const model = compileGraph(importOnnx(readFileSync(join(FIXTURES, "models/mnist-mlp.onnx")), "mnist-mlp"));
    const shelf = new ModelShelf();
    const shelved = shelf.add(model, "fixtures/models/mnist-mlp.onnx");
    const registered = await sendTx(chains.owner.registry, "register", [modelFields(model), "bundled:fixtures/models/mnist-mlp.onnx"]);
    say(`model mnist-mlp registered as ${shelved.id} (${model.meta.parameters.toLocaleString("en-US")} parameters, ${model.meta.steps} steps): ${fmtGas(registered.gasUsed)} gas`);

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

    // Three daemons: the challenger, and each proposer defending (and finalizing) its own claims.
    const moves: DisputeMove[] = [];
    const books = { honest: new ClaimBook(join(dir, "honest-claims.json")), fraud: new ClaimBook(join(dir, "fraud-claims.json")) };
    let fraudClaimId = 0n;
    const watch = (role: Role): Logger => (level, event, fields: LogFields = {}) => {
      options.log?.(level, event, { agent: role, ...fields });
      if (role !== "challenger" && role !== "fraud") return;
      const claim = fields.claim === undefined ? undefined : BigInt(fields.claim as string);
      if (claim !== fraudClaimId) return;
      if (event === "challenge") {
        moves.push({ move: "challenge", gas: Number(fields.gas) });
        say(`challenger ${chains.challenger.address} re-executed the claim: its trace root is wrong → challenge, ${fmtGas(fields.gas as bigint)} gas`);
      } else if (event === "move") {
        const m: DisputeMove = { move: fields.move as DisputeMove["move"], round: fields.round as number, steps: fields.steps as [number, number], gas: Number(fields.gas) };
        moves.push(m);
        if (m.move === "choose") {
          const reveal = moves.at(-2)!;
          const next = fields.next as [number, number];
          say(`round ${String(m.round).padStart(2)}/${fields.rounds}  disputed steps ${m.steps![0]}–${m.steps![1]}  reveal ${fmtGas(reveal.gas)} gas, choose ${fmtGas(m.gas)} gas → steps ${next[0]}–${next[1]}`);
        } else if (m.move === "prove") {
          say(`one-step proof of step ${fields.step} on-chain: ${fmtGas(m.gas)} gas`);
        }
      }
    };
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
        log: watch(role),
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
    fraudClaimId = fraud.claimId;
    say(`fraudulent proposer ${chains.fraud.address} claims request ${r2.requestId} with every state wrong from step ${lieAtStep} on (its output says digit ${predicted(fraud.view)}): claim ${fraud.claimId}, ${fmtGas(fraud.gasUsed)} gas`);

    const oracle = chains.owner.oracle;
    const VOID = 2n;
    await until("the fraudulent claim's dispute", 120, async () => moves.some((m) => m.move === "prove") && BigInt((await oracle.getClaim(fraud.claimId)).status) === VOID);
    const disputeWallMs = performance.now() - disputeStart;
    const disputeGas = moves.reduce((sum, m) => sum + m.gas, 0);
    const rounds = moves.filter((m) => m.move === "choose").length;
    say(`claim ${fraud.claimId} is void: the fraudulent proposer's bond goes to the challenger`);
    say(`dispute: ${rounds} rounds, ${fmtGas(disputeGas)} gas in all, ${(disputeWallMs / 1000).toFixed(2)} s from the fraudulent claim to resolution`);

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
    say(`balances, gas included (ETH): ${lines.join(", ")}`);
    return { chainId: d.chainId, modelId: shelved.id, lieAtStep, disputeWallMs, rounds, moves, disputeGas, claimGas: Number(fraud.gasUsed), balanceChange, results, totalWallMs: performance.now() - began };
  } finally {
    for (const agent of agents) agent.stop();
    await Promise.allSettled(running);
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
