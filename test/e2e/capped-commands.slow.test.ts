/**
 * The one-shot commands behind an RPC provider that caps eth_getLogs at 1,000 blocks, on a deployment 10,000 blocks
 * old: a real `hardhat node`, LogCapProxy in front of it, and the real CLI (node bin/mlvm.js … --rpc <proxy>) for
 * register, request, claim (honest, and a lie that a challenger then wins on time), status (the overview and each
 * claim) and finalize after the window. Every command that reads events goes through the log reader: one refused
 * 2,000-block range, then 1,000-block chunks. The same reads as one eth_getLogs from the deployment block — what
 * requests.ts and status.ts asked before — are refused through the same proxy, which the test shows too.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hardhatKey } from "../../challenger/chain.js";
import { deployTo, writeDeployments } from "../../challenger/deployments.js";
import { isRangeRefusal } from "../../challenger/log-reader.js";
import { eventsIn } from "../../challenger/protocol.js";
import { encodeModelFile } from "../../compiler/modelfile.js";
import { loadMnist } from "../../datasets/mnist.js";
import { loadArtifact } from "../../evm/artifacts.js";
import { type LocalNode, startLocalNode } from "../../localchain/local-node.js";
import { rpcCall } from "../../localchain/miner.js";
import { fixturePath, mnist } from "../helpers/models.js";
import { E2E_PARAMS, LogCapProxy } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CAP = 1000;
const OLD = 10_000;

let node: LocalNode;
let proxy: LogCapProxy;

beforeAll(async () => {
  node = await startLocalNode();
  proxy = new LogCapProxy(node.rpc, CAP);
  await proxy.listen();
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await node?.stop();
});

/** `node bin/mlvm.js …args --json` (asynchronously: the proxy answers from this process). */
function mlvm(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = { ...process.env };
  delete env.MLVM_KEY;
  const child = spawn(process.execPath, [join(ROOT, "bin/mlvm.js"), ...args, "--json"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (err += c));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, out, err })));
}

it("register, request, claim, status and finalize through a 1,000-block eth_getLogs cap, 10,000 blocks after the deployment", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mlvm-capped-"));
  const deployments = join(dir, "deployments.json");
  const deployment = await deployTo(node.rpc, hardhatKey(0), E2E_PARAMS);
  writeDeployments(deployments, deployment);
  const models = join(dir, "models");
  mkdirSync(models);
  const modelFile = join(models, "mnist.mlvm");
  writeFileSync(modelFile, encodeModelFile(mnist()));
  const digits = loadMnist(fixturePath("mnist"));
  const input = (k: number) => {
    const file = join(dir, `digit-${k}.json`);
    writeFileSync(file, JSON.stringify(Array.from(digits.image(k))));
    return file;
  };
  await rpcCall(node.rpc, "hardhat_mine", [ethers.toQuantity(OLD)]);

  const counts: string[] = [];
  /** A command through the proxy: it must succeed, print one JSON object, and meet the cap at most once. */
  async function run(name: string, ...args: string[]) {
    const [refused, calls] = [proxy.refused, proxy.getLogs];
    const r = await mlvm([...args, "--deployments", deployments, "--rpc", proxy.url, "--state-dir", join(dir, "state")]);
    expect(r.err, `${name}: ${r.err}`).toBe("");
    expect(r.code).toBe(0);
    const delta = { refused: proxy.refused - refused, getLogs: proxy.getLogs - calls };
    counts.push(`${name} ${delta.getLogs} eth_getLogs (${delta.refused} refused)`);
    return { json: JSON.parse(r.out), ...delta };
  }

  // register and request read no events: they only have to work through the proxy.
  const registered = await run("register", "register", modelFile);
  expect(registered.json.modelId).toBe(mnist().meta.commitment);
  const honestRequest = BigInt((await run("request", "request", modelFile, "--input", input(7), "--account", "1")).json.requestId);
  const lieRequest = BigInt((await run("request", "request", modelFile, "--input", input(8), "--account", "1")).json.requestId);
  await rpcCall(node.rpc, "hardhat_mine", [ethers.toQuantity(3000)]);

  // claim finds its request 3,000 blocks back, newest chunk first: one refusal, then 1,000-block chunks.
  const claimed = await run("claim", "claim", String(honestRequest), "--models", models, "--account", "2");
  const honestClaim = BigInt(claimed.json.claimId);
  expect(claimed.refused).toBe(1);
  expect(claimed.getLogs).toBeLessThanOrEqual(1 + 4);
  const lie = await run("claim --lie-output", "claim", String(lieRequest), "--models", models, "--account", "3", "--lie-output");
  const lieClaim = BigInt(lie.json.claimId);

  // A challenger takes the lie; the liar never reveals; after its clock, timeout() voids the claim.
  const provider = new ethers.JsonRpcProvider(node.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const challenger = new ethers.Wallet(hardhatKey(4), provider);
    const oracle = new ethers.Contract(deployment.contracts.InferenceOracle, loadArtifact("InferenceOracle").abi, challenger);
    const game = new ethers.Contract(deployment.contracts.BisectionGame, loadArtifact("BisectionGame").abi, challenger);
    const receipt = await (await oracle.challenge(lieClaim, { value: await oracle.challengeBond() })).wait();
    const gameId = eventsIn(receipt, oracle, "Challenged")[0].args.gameId as bigint;
    await rpcCall(node.rpc, "hardhat_mine", [ethers.toQuantity(2000)]);
    await rpcCall(node.rpc, "evm_increaseTime", [E2E_PARAMS.window + 1]);
    await (await game.timeout(gameId)).wait();

    const overview = (await run("status", "status")).json;
    expect(overview.block - deployment.fromBlock!).toBeGreaterThan(OLD + 5000);
    expect(overview.requests.map((r: { requestId: string; status: string }) => [r.requestId, r.status])).toEqual([
      [String(honestRequest), "claimed"],
      [String(lieRequest), "open"],
    ]);
    expect(overview.claims.map((c: { claimId: string; status: string }) => [c.claimId, c.status])).toEqual([
      [String(honestClaim), "open"],
      [String(lieClaim), "void"],
    ]);
    expect(overview.claims[1].games).toEqual([{ gameId: String(gameId), challenger: challenger.address, defenderWon: false }]);
    expect(overview.claims[1].settlement).toMatchObject({ settled: true, winners: 1 });

    const voided = (await run("status <lie>", "status", String(lieClaim), "--models", models)).json;
    expect(voided.status).toBe("void");
    expect(voided.games).toHaveLength(1);
    expect(voided.games[0]).toMatchObject({ active: false, result: "challenger won (the defender's clock ran out)" });
    expect(voided.settlement).toMatchObject({ settled: true, winners: 1 });

    const open = (await run("status <claim>", "status", String(honestClaim), "--models", models)).json;
    expect(open).toMatchObject({ status: "open", finalizable: true, prediction: claimed.json.prediction, games: [] });

    const finalized = await run("finalize", "finalize", String(honestClaim), "--models", models, "--account", "2");
    expect(finalized.json.prediction).toBe(claimed.json.prediction);
    expect(finalized.refused).toBe(1);
    const final = (await run("status <claim>", "status", String(honestClaim))).json;
    expect(final.status).toBe("final");
    expect(proxy.refused).toBeGreaterThanOrEqual(5);

    // Before the log reader: one eth_getLogs from the deployment block to the head, refused by the same proxy.
    const capped = new ethers.JsonRpcProvider(proxy.url, undefined, { staticNetwork: true });
    try {
      const old = oracle.connect(capped) as ethers.Contract;
      const refusals = await Promise.all([
        old.queryFilter(old.filters.InferenceRequested(honestRequest), deployment.fromBlock ?? 0, "latest").then(() => undefined, (e: unknown) => e), // findRequest (claim, finalize, status)
        old.queryFilter(old.filters.Claimed(honestClaim), deployment.fromBlock ?? 0, "latest").then(() => undefined, (e: unknown) => e), // findClaim (finalize, status)
        capped.getLogs({ address: deployment.contracts.InferenceOracle, fromBlock: deployment.fromBlock ?? 0, toBlock: "latest" }).then(() => undefined, (e: unknown) => e), // status's scan
      ]);
      expect(refusals.map(isRangeRefusal)).toEqual([true, true, true]);
    } finally {
      capped.destroy();
    }
  } finally {
    provider.destroy();
  }
  console.log(`capped eth_getLogs (${CAP} blocks, deployment ${OLD}+ blocks old): ${counts.join("; ")}; ${proxy.refused} refused of ${proxy.getLogs} in all`);
}, 180_000);
