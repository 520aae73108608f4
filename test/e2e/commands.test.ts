/**
 * The one-shot chain commands (register, request, claim, finalize, status) against a real Hardhat node spawned with
 * `mlvm node --window 60`, run in-process through main(): the MNIST model is registered (twice: idempotent; then
 * another account adds a weights URI), requests are answered with honest and lying claims, a lie is challenged,
 * its first round is revealed and chosen while status follows the game, then it loses on time and status shows
 * the settlement of its bond; the window is moved past with evm_increaseTime, and finalize delivers the VM's
 * prediction to a DigitConsumer contract.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hardhatKey } from "../../challenger/chain.js";
import { chooseMove, revealMove } from "../../challenger/moves.js";
import { claimView } from "../../challenger/proposer.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { toHex } from "../../vm/hash.js";
import { freePort } from "../../localchain/ports.js";
import { inputLeaves } from "../../challenger/claims.js";
import { readDeployments } from "../../challenger/deployments.js";
import { eventsIn } from "../../challenger/protocol.js";
import { claimBookPath } from "../../cli/chain-options.js";
import { main } from "../../cli/main.js";
import { loadModel } from "../../compiler/compile.js";
import { loadArtifact } from "../../evm/artifacts.js";
import { encodeInput } from "../../interpreter/run.js";
import { loadMnist } from "../../datasets/mnist.js";
import { fixturePath } from "../helpers/models.js";
import { until } from "./harness.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "mlvm-commands-"));
const deployments = join(tmp, "deployments.json");
const stateDir = join(tmp, "state");
const modelsDir = join(tmp, "models");
const modelFile = join(modelsDir, "mnist.mlvm");
const WINDOW = 60;
const claimIdOf = (requestId: bigint, attempt = 1n) => (requestId << 32n) | attempt;

let node: ChildProcess;
let provider: ethers.JsonRpcProvider;
let modelId: string;
let steps: number;
const savedKey = process.env.MLVM_KEY;

const digits = loadMnist(fixturePath("mnist"));
const inputFile = (k: number) => join(tmp, `digit-${k}.json`);
/** `mlvm run --json`'s outputs and prediction for each digit used below. */
const expected = new Map<number, { outputs: number[]; prediction: number }>();
const DIGITS = [0, 1, 2, 3, 4, 5];

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(...l.split("\n")), err: (l) => err.push(...l.split("\n")) });
  return { code, out: out.join("\n"), err };
}

/** A chain command with this test's deployments file and state directory. */
const chainCli = (...argv: string[]) => cli(...argv, "--deployments", deployments, "--state-dir", stateDir);

/** The same, expecting success and one JSON object on stdout. */
async function chainJson(...argv: string[]) {
  const r = await chainCli(...argv, "--json");
  expect(r.err, r.err.join("\n")).toEqual([]);
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

/** A command that must fail with one line on stderr. */
async function fails(code: number, pattern: RegExp, ...argv: string[]) {
  const r = await chainCli(...argv);
  expect(r.code).toBe(code);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(pattern);
}

async function advance(seconds: number) {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}

beforeAll(async () => {
  delete process.env.MLVM_KEY;
  const port = await freePort();
  node = spawn(process.execPath, [join(root, "bin/mlvm.js"), "node", "--port", String(port), "--deployments", deployments, "--window", String(WINDOW)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  mkdirSync(modelsDir);
  expect((await cli("compile", fixturePath("models/mnist-mlp.onnx"), "-o", modelFile)).code).toBe(0);
  const model = loadModel(modelFile);
  modelId = model.meta.commitment;
  steps = model.meta.steps;
  for (const k of DIGITS) writeFileSync(inputFile(k), JSON.stringify(Array.from(digits.image(k))));
  const batch = join(tmp, "batch.json");
  writeFileSync(batch, JSON.stringify(DIGITS.map((k) => Array.from(digits.image(k)))));
  const run = await cli("run", modelFile, "--input", batch, "--json");
  const { outputs, predictions } = JSON.parse(run.out) as { outputs: number[][]; predictions: number[] };
  DIGITS.forEach((k, i) => expected.set(k, { outputs: outputs[i], prediction: predictions[i] }));
  await until("the deployments file", 90, () => existsSync(deployments));
  const d = readDeployments(deployments);
  provider = new ethers.JsonRpcProvider(d.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(d.chainId) });
}, 120_000);

afterAll(async () => {
  provider?.destroy();
  if (savedKey !== undefined) process.env.MLVM_KEY = savedKey;
  if (node.exitCode !== null) return;
  const exited = new Promise((resolve) => node.once("exit", resolve));
  node.kill("SIGTERM"); // mlvm node stops its Hardhat child, then exits
  await exited;
}, 30_000);

/** Hardhat account n: the commands send from accounts 0 and 1, the test itself from 2 (challenger) and 3. */
const wallet = (n: number) => new ethers.Wallet(hardhatKey(n), provider);

describe("mlvm register", () => {
  it("registers the model under its commitment, the sender recorded as its registrant", async () => {
    const r = await chainCli("register", modelFile, "--uri", "file://fixtures/models/mnist-mlp.onnx");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`registered model ${modelId}`);
    expect(r.out).toMatch(/gas {9}\d{5,}/);
    expect(r.out).toContain(`registrant  ${wallet(0).address} (a record: it gives no rights)`);
    const registry = new ethers.Contract(readDeployments(deployments).contracts.ModelRegistry, loadArtifact("ModelRegistry").abi, provider);
    const m = await registry.model(modelId);
    expect(m.registrant).toBe(wallet(0).address);
    expect(Number(m.steps)).toBe(steps);
  });

  it("registering again is a no-op that exits 0; with --uri anyone adds a weights URI", async () => {
    const again = await chainCli("register", modelFile, "--account", "1");
    expect(again.code).toBe(0);
    expect(again.out).toBe(`model ${modelId} (${modelFile}) is already registered (registrant ${wallet(0).address}): nothing to do`);
    const json = await chainJson("register", modelFile);
    expect(json).toEqual({ modelId, registrant: wallet(0).address, alreadyRegistered: true, uri: null, uriAdded: false, gasUsed: null, transactionHash: null });
    // Another account adds a mirror: the registry takes it from anyone and says so in an event.
    const mirror = "https://example.org/mnist-mlp.onnx";
    const added = await chainJson("register", modelFile, "--account", "1", "--uri", mirror);
    expect(added).toMatchObject({ modelId, registrant: wallet(0).address, alreadyRegistered: true, uri: mirror, uriAdded: true });
    expect(Number(added.gasUsed)).toBeGreaterThan(21_000);
    const registry = new ethers.Contract(readDeployments(deployments).contracts.ModelRegistry, loadArtifact("ModelRegistry").abi, provider);
    const [event] = eventsIn((await provider.getTransactionReceipt(added.transactionHash))!, registry, "WeightsURIAdded");
    expect([event.args.modelId, event.args.by, event.args.weightsURI]).toEqual([modelId, wallet(1).address, mirror]);
    const text = await chainCli("register", modelFile, "--uri", "ipfs://mnist");
    expect(text.code).toBe(0);
    expect(text.out).toMatch(new RegExp(`^model ${modelId} .* is already registered \\(registrant ${wallet(0).address}\\): added weights URI ipfs://mnist\n  gas    \\d{5,}$`));
  });
});

describe("mlvm request", () => {
  it("posts the input as leaves and prints the request id", async () => {
    const r = await chainJson("request", modelFile, "--input", inputFile(0));
    expect(r).toMatchObject({ requestId: "1", modelId, requester: wallet(0).address, callback: ethers.ZeroAddress });
    expect(BigInt(r.gasUsed)).toBeGreaterThan(100_000n);
    const text = await chainCli("request", modelFile, "--input", inputFile(1), "--account", "1");
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^request 2 for model 0x/);
  });

  it("an input of the wrong length, a codeless callback or a bad --account is one line and a non-zero exit", async () => {
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, "[0.5, 0.25, 1]");
    await fails(1, /^mlvm request: --input file .*bad\.json: input 0 has 3 values, the model takes 784$/, "request", modelFile, "--input", bad);
    await fails(1, /^mlvm request: request reverted: CallbackNotContract\(0x0+1\)$/, "request", modelFile, "--input", inputFile(0), "--callback", "0x" + "0".repeat(39) + "1");
    await fails(2, /^mlvm request: --callback must be an address/, "request", modelFile, "--input", inputFile(0), "--callback", "nowhere");
    await fails(2, /^mlvm request: --account must be a non-negative integer, got "one"$/, "request", modelFile, "--input", inputFile(0), "--account", "one");
    await fails(1, /^mlvm request: give either --key or --account, not both$/, "request", modelFile, "--input", inputFile(0), "--account", "1", "--key", hardhatKey(1));
  });
});

describe("mlvm claim and mlvm status", () => {
  it("an honest claim predicts what mlvm run predicts, and status shows it open", async () => {
    const c = await chainJson("claim", "1", "--model", modelFile);
    expect(c).toMatchObject({ claimId: claimIdOf(1n).toString(), requestId: "1", modelId, claimant: wallet(0).address, lie: null });
    expect(c.prediction).toBe(expected.get(0)!.prediction);
    expect(c.output).toEqual(expected.get(0)!.outputs);
    const s = await chainJson("status", claimIdOf(1n).toString(), "--model", modelFile);
    expect(s).toMatchObject({ claimId: claimIdOf(1n).toString(), status: "open", claimant: wallet(0).address, steps, openGames: 0, finalizable: false, games: [] });
    expect(s.secondsLeft).toBeGreaterThan(WINDOW - 10);
    expect(s.secondsLeft).toBeLessThanOrEqual(WINDOW);
    expect(s.prediction).toBe(expected.get(0)!.prediction);
    const text = await chainCli("status", claimIdOf(1n).toString());
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^claim 4294967297 \(request 1, attempt 1\): open/);
    expect(text.out).toMatch(/output {6}4 leaves \(give --model or --models to decode\)/);
  });

  it("finalize before the window has passed is refused by the oracle", async () => {
    await fails(1, /^mlvm finalize: finalize reverted: ChallengeWindowOpen\(4294967297\)$/, "finalize", claimIdOf(1n).toString(), "--model", modelFile);
  });

  it("--lie-output from another account is claimed and recorded with its lie in that account's claim book", async () => {
    const c = await chainJson("claim", "2", "--models", modelsDir, "--account", "1", "--lie-output");
    const book = claimBookPath(stateDir, 31337, wallet(1).address);
    expect(c).toMatchObject({ claimId: claimIdOf(2n).toString(), claimant: wallet(1).address, lie: { step: steps }, claimBook: book });
    const honest = expected.get(1)!.outputs;
    expect(c.output[0]).toBeCloseTo(honest[0] + 1, 9);
    expect(c.output.slice(1)).toEqual(honest.slice(1));
    const entries = JSON.parse(readFileSync(book, "utf8")).claims;
    expect(entries[claimIdOf(2n).toString()]).toEqual({ requestId: "2", modelId, traceRoot: c.traceRoot, lie: { step: steps } });
    expect(book).toMatch(/claims-31337-0x70997970c51812dc3a010c7d01b50e0d17dc79c8\.json$/);
  });

  it("a lie outside the trace, two lies at once, a claimed request, a wrong model, or a bad id fail in one line", async () => {
    await chainJson("request", modelFile, "--input", inputFile(2)); // request 3
    await fails(1, new RegExp(`^mlvm claim: --lie-at-step must be a step in 0…${steps}, got ${steps + 1}$`), "claim", "3", "--model", modelFile, "--lie-at-step", String(steps + 1));
    await fails(2, /^mlvm claim: give either --lie-output or --lie-at-step, not both$/, "claim", "3", "--model", modelFile, "--lie-output", "--lie-at-step", "3");
    await fails(2, /^mlvm claim: missing --model FILE \(or --models DIR\)$/, "claim", "3");
    await fails(1, /^mlvm claim: claim reverted: RequestAlreadyClaimed\(1, 4294967297\)$/, "claim", "1", "--model", modelFile);
    const other = join(tmp, "tiny.json");
    copyFileSync(fixturePath("models/tiny.json"), other);
    await fails(1, /^mlvm claim: request 3 is for model 0x[0-9a-f]{64}, not 0x[0-9a-f]{64} \(.*tiny\.json\)$/, "claim", "3", "--model", other);
    const otherDir = join(tmp, "other-models");
    mkdirSync(otherDir);
    copyFileSync(other, join(otherDir, "tiny.json"));
    await fails(1, new RegExp(`^mlvm claim: --models .*other-models holds no model with id ${modelId}$`), "claim", "3", "--models", otherDir);
    await fails(1, /^mlvm status: no claim 12345 on this oracle$/, "status", "12345");
    await fails(1, /^mlvm claim: no request 99 on this oracle$/, "claim", "99", "--model", modelFile);
    await fails(1, /^mlvm finalize: CLAIM_ID must be a number, got "latest"$/, "finalize", "latest", "--model", modelFile);
  });

  it("a lie at step K, once challenged, shows its game in status: round 1 of 3, every step disputed, the node unrevealed", async () => {
    const c = await chainJson("claim", "3", "--model", modelFile, "--account", "1", "--lie-at-step", "1000");
    expect(c.lie).toEqual({ step: 1000 });
    const d = readDeployments(deployments);
    const oracle = new ethers.Contract(d.contracts.InferenceOracle, loadArtifact("InferenceOracle").abi, wallet(2));
    await (await oracle.challenge(claimIdOf(3n), { value: await oracle.challengeBond() })).wait();
    const s = await chainJson("status", claimIdOf(3n).toString());
    expect(s).toMatchObject({ status: "open", openGames: 1, splitBits: 4, settlement: null });
    expect(s.games).toEqual([
      {
        gameId: "0",
        challenger: wallet(2).address,
        active: true,
        depth: 0,
        traceDepth: 12,
        levels: 4,
        round: 1,
        rounds: 3,
        steps: [0, steps],
        node: c.traceRoot,
        revealed: false,
        revealedAt: null,
        turn: "defender",
        move: "reveal",
        timeoutPossible: false,
        defenderClock: expect.any(Number),
        challengerClock: 1800,
        result: null,
        rewardDue: null,
      },
    ]);
    expect(s.games[0].defenderClock).toBeLessThanOrEqual(1800);
    const text = await chainCli("status", claimIdOf(3n).toString());
    expect(text.out).toContain("games       1 (m = 4: a round reveals 16 nodes)");
    expect(text.out).toMatch(
      new RegExp(
        `game 0 by ${wallet(2).address}: active, round 1/3 \\(opens 4 levels: 16 nodes\\), disputed steps 0…${steps}; node not revealed: defender to reveal \\(anyone holding the claim's trace may reveal\\); clocks: defender \\d+ s, challenger 1800 s$`,
        "m",
      ),
    );
  });

  it("once anyone reveals the disputed node, status shows the challenger to choose 1 of 16; its choice narrows the steps to 256", async () => {
    const model = loadModel(modelFile);
    const trace = new WasmMachine(model).trace(encodeInput(model.program, digits.image(2)));
    // The liar's tree is rebuilt from the same lie (anyone holding it may reveal): the test reveals as account 3.
    const lie = claimView(trace, { step: 1000 });
    const d = readDeployments(deployments);
    const game = new ethers.Contract(d.contracts.BisectionGame, loadArtifact("BisectionGame").abi, wallet(3));
    const at = { depth: 0, index: 0, traceDepth: 12, agreedHeight: 0, levels: 4 };
    const r = revealMove(lie.tree, at);
    await (await game.reveal(toHex(r.node), r.levels, r.nodes.map(toHex))).wait();
    const s = await chainJson("status", claimIdOf(3n).toString());
    expect(s.games[0]).toMatchObject({ round: 1, revealed: true, turn: "challenger", move: "choose", timeoutPossible: false });
    expect(s.games[0].revealedAt).toBeGreaterThan(0);
    const text = await chainCli("status", claimIdOf(3n).toString());
    expect(text.out).toMatch(new RegExp(`round 1/3 .*; node revealed at ${s.games[0].revealedAt}: challenger to choose 1 of 16; clocks: defender \\d+ s, challenger \\d+ s$`, "m"));
    // The challenger disputes the first of the 16 that differs from the honest tree: steps 768–1023 hold step 1000.
    const pick = chooseMove(claimView(trace).tree, at, r.nodes);
    expect(pick).toBe(3);
    await (await (game.connect(wallet(2)) as ethers.Contract).choose(0, r.nodes.map(toHex), pick)).wait();
    const next = await chainJson("status", claimIdOf(3n).toString());
    expect(next.games[0]).toMatchObject({ depth: 4, levels: 4, round: 2, rounds: 3, steps: [768, 1023], node: toHex(r.nodes[3]), revealed: false, turn: "defender", move: "reveal" });
  });
});

describe("delivery to a consumer contract", () => {
  let consumer: ethers.Contract;
  const requestIds: bigint[] = [];

  it("DigitConsumer.classify() makes a request the CLI can claim; mlvm request --callback names it too", async () => {
    const d = readDeployments(deployments);
    const a = loadArtifact("DigitConsumer");
    consumer = (await (await new ethers.ContractFactory(a.abi, a.bytecode, wallet(3)).deploy(d.contracts.InferenceOracle, modelId)).waitForDeployment()) as unknown as ethers.Contract;
    const model = loadModel(modelFile);
    const receipt = await (await consumer.classify(inputLeaves(encodeInput(model.program, digits.image(4))))).wait();
    const oracle = new ethers.Contract(d.contracts.InferenceOracle, loadArtifact("InferenceOracle").abi, provider);
    requestIds.push(eventsIn(receipt, oracle, "InferenceRequested")[0].args.requestId as bigint);
    expect(requestIds[0]).toBe(4n);
    const viaCli = await chainJson("request", modelFile, "--input", inputFile(5), "--callback", await consumer.getAddress());
    expect(viaCli.callback).toBe(await consumer.getAddress());
    requestIds.push(BigInt(viaCli.requestId));
    for (const id of requestIds) expect((await chainJson("claim", id.toString(), "--model", modelFile)).claimant).toBe(wallet(0).address);
    // With a callback, finalize sends its own gas limit after a dry run: a revert is still named, and costs nothing.
    await fails(1, new RegExp(`^mlvm finalize: finalize reverted: ChallengeWindowOpen\\(${claimIdOf(requestIds[0])}\\)$`), "finalize", claimIdOf(requestIds[0]).toString(), "--model", modelFile);
  });

  it("after the window, finalize delivers the VM's prediction; a callback for a request it did not make fails without blocking", async () => {
    await advance(WINDOW + 1);
    const s = await chainJson("status", claimIdOf(requestIds[0]).toString());
    expect(s).toMatchObject({ status: "open", secondsLeft: 0, finalizable: true });
    const f = await chainJson("finalize", claimIdOf(requestIds[0]).toString(), "--models", modelsDir);
    expect(f).toMatchObject({ requestId: requestIds[0].toString(), callback: await consumer.getAddress(), callbackSucceeded: true, prediction: expected.get(4)!.prediction });
    expect(await consumer.digitOf(requestIds[0])).toBe(BigInt(expected.get(4)!.prediction));
    expect(await consumer.answered(requestIds[0])).toBe(true);
    // The consumer only accepts answers to its own requests: the callback reverts, the claim is final anyway.
    const text = await chainCli("finalize", claimIdOf(requestIds[1]).toString(), "--model", modelFile);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/callback {4}0x[0-9a-fA-F]{40}: FAILED/);
    expect(await consumer.answered(requestIds[1])).toBe(false);
    expect((await chainJson("status", claimIdOf(requestIds[1]).toString())).status).toBe("final");
  });
});

describe("mlvm finalize", () => {
  it("finalizes the honest claim with mlvm run's output, and status shows it final", async () => {
    const f = await chainJson("finalize", claimIdOf(1n).toString(), "--model", modelFile);
    expect(f).toMatchObject({ claimId: claimIdOf(1n).toString(), requestId: "1", callback: null, callbackSucceeded: null, prediction: expected.get(0)!.prediction });
    expect(f.output).toEqual(expected.get(0)!.outputs);
    const text = await chainCli("status", claimIdOf(1n).toString());
    expect(text.out).toMatch(/^claim 4294967297 \(request 1, attempt 1\): final$/m);
    await fails(1, /^mlvm finalize: finalize reverted: ClaimNotOpen\(4294967297\)$/, "finalize", claimIdOf(1n).toString(), "--model", modelFile);
  });

  it("a lie is finalized only by its claimant's key, whose claim book rebuilds it; a challenged claim waits for its game", async () => {
    await fails(1, /^mlvm finalize: claim 8589934593's trace root 0x[0-9a-f]{64} is not reproducible: it is not an honest run of request 2 and not in this key's claim book$/, "finalize", claimIdOf(2n).toString(), "--model", modelFile);
    const f = await chainJson("finalize", claimIdOf(2n).toString(), "--model", modelFile, "--account", "1");
    expect(f.output[0]).toBeCloseTo(expected.get(1)!.outputs[0] + 1, 9);
    await fails(1, /^mlvm finalize: finalize reverted: GamesOpen\(12884901889, 1\)$/, "finalize", claimIdOf(3n).toString(), "--model", modelFile, "--account", "1");
  });

  it("once the liar's clock runs out its claim is void, and status tells the whole story", async () => {
    await advance(1801);
    const d = readDeployments(deployments);
    const game = new ethers.Contract(d.contracts.BisectionGame, loadArtifact("BisectionGame").abi, wallet(2));
    await (await game.timeout(0)).wait();
    const s = await chainJson("status", claimIdOf(3n).toString());
    expect(s).toMatchObject({ status: "void", openGames: 0, finalizable: false });
    expect(s.games[0]).toMatchObject({ active: false, round: 2, turn: null, move: null, result: "challenger won (the defender's clock ran out)", rewardDue: false });
    // The sole winner was paid its half of the claim bond at once (with its own bond back); the other half is burned.
    const half = (ethers.parseEther("1") / 2n).toString();
    expect(s.settlement).toEqual({ settled: true, winners: 1, share: half, burned: half });
    const detail = await chainCli("status", claimIdOf(3n).toString());
    expect(detail.out).toMatch(/^ {2}bond {8}settled: 0\.5 ETH to each of 1 winning challenger \(with its bond back\), 0\.5 ETH burned$/m);
    expect(detail.out).toMatch(/game 0 by 0x[0-9a-fA-F]{40}: over, round 2\/3 .*, disputed steps 768…1023; challenger won \(the defender's clock ran out\)$/m);
    const all = await chainJson("status");
    expect(all.requests.map((r: { requestId: string; status: string }) => [r.requestId, r.status])).toEqual([
      ["1", "fulfilled"],
      ["2", "fulfilled"],
      ["3", "open"],
      ["4", "fulfilled"],
      ["5", "fulfilled"],
    ]);
    expect(all.claims.map((c: { claimId: string; status: string }) => [BigInt(c.claimId) >> 32n, c.status])).toEqual([
      [1n, "final"],
      [2n, "final"],
      [3n, "void"],
      [4n, "final"],
      [5n, "final"],
    ]);
    expect(all.claims[2].games).toEqual([{ gameId: "0", challenger: wallet(2).address, defenderWon: false }]);
    expect(all.claims[2].settlement).toEqual({ settled: true, winners: 1, share: half, burned: half });
    expect(all.claims[0].settlement).toBeNull();
    expect(all).toMatchObject({ splitBits: 4, burned: half });
    const table = await chainCli("status");
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ {2}12884901889 +3 +void .* 1 \(1 won by the challenger\)$/m);
    expect(table.out).toMatch(/^ {2}void claim 12884901889: settled: 0\.5 ETH to each of 1 winning challenger \(with its bond back\), 0\.5 ETH burned$/m);
    expect(table.out).toMatch(/^oracle 0x[0-9a-fA-F]{40} on chain 31337, block \d+ \(chain time \d+\); a game round reveals 2\^4 nodes; burned so far 0\.5 ETH$/m);
    expect(table.out).toMatch(new RegExp(`^ {2}3 +${modelId.slice(0, 10)}…${modelId.slice(-4)} +0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4} +- +open$`, "m"));
  });
});
