/**
 * The one-shot CLI's failures, each one line a user can act on, against real chains (a `hardhat node` and an
 * anvil, started by localchain/local-node.ts): a key that cannot pay (no ETH; less than a claim's bond; a
 * deployer with nothing) is told its address, its balance and the need, and nothing is sent; `mlvm deploy`
 * refuses an unwritable deployments path and zero parameters before spending gas, and takes $MLVM_KEY; `mlvm
 * balance` and `mlvm withdraw` follow a finalized claim's bond from the oracle's credit to the wallet; a bad
 * file in a --models directory does not stop a claim.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hardhatKey } from "../../challenger/chain.js";
import { InsufficientFundsError, asInsufficientFunds } from "../../challenger/funds.js";
import { main } from "../../cli/main.js";
import { encodeModelFile } from "../../compiler/modelfile.js";
import { loadMnist } from "../../datasets/mnist.js";
import { rpcChainId } from "../../challenger/deployments.js";
import { anvilCommand } from "../../localchain/anvil-node.js";
import { until } from "../../localchain/daemon-process.js";
import { type Engine, type LocalNode, advanceTime, startLocalNode } from "../../localchain/local-node.js";
import { freePort } from "../../localchain/ports.js";
import { fixturePath, mnist } from "../helpers/models.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "mlvm-failures-"));
const modelsDir = join(tmp, "models");
const modelFile = join(modelsDir, "mnist.mlvm");
const inputFile = join(tmp, "digit-0.json");
const WINDOW = 60;
const ENGINES: Engine[] = ["hardhat", "anvil"];
const savedKey = process.env.MLVM_KEY;

interface Setup {
  node: LocalNode;
  provider: ethers.JsonRpcProvider;
  deployments: string;
}
const chains = new Map<Engine, Setup>();

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(...l.split("\n")), err: (l) => err.push(...l.split("\n")) });
  return { code, out: out.join("\n"), err };
}

/** A chain command against `engine`'s deployment. */
const on = (engine: Engine, ...argv: string[]) => cli(...argv, "--deployments", chains.get(engine)!.deployments, "--state-dir", join(tmp, `state-${engine}`));

/** stderr without the warnings a --models directory with a bad file gives (each names the file it skipped). */
const WARNING = /^warning: skipped \S+broken\.json: /;
const errors = (err: string[]) => err.filter((l) => !WARNING.test(l));

/** A command that must fail with exit `code` and exactly one error line on stderr, matching `pattern`. */
async function fails(r: Promise<{ code: number; err: string[] }>, code: number, pattern: RegExp) {
  const { code: got, err: all } = await r;
  const err = errors(all);
  expect(err, err.join("\n")).toHaveLength(1);
  expect(err[0]).toMatch(pattern);
  expect(err[0].length).toBeLessThan(300);
  expect(got).toBe(code);
}

/** The same, expecting success and one JSON object on stdout. */
async function json(r: Promise<{ code: number; out: string; err: string[] }>) {
  const { code, out, err } = await r;
  expect(errors(err), err.join("\n")).toEqual([]);
  expect(code).toBe(0);
  return JSON.parse(out);
}

/** A new key holding `eth` (sent from Hardhat account 19, which the tests use for nothing else). */
async function keyWith(engine: Engine, eth: string): Promise<ethers.HDNodeWallet> {
  const { provider } = chains.get(engine)!;
  const key = ethers.Wallet.createRandom().connect(provider);
  if (eth !== "0") await (await new ethers.Wallet(hardhatKey(19), provider).sendTransaction({ to: key.address, value: ethers.parseEther(eth) })).wait();
  return key;
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ETH = "\\d+\\.\\d{1,6}";

beforeAll(async () => {
  delete process.env.MLVM_KEY;
  mkdirSync(modelsDir);
  writeFileSync(modelFile, encodeModelFile(mnist()));
  writeFileSync(join(modelsDir, "broken.json"), "{ this is not a model");
  writeFileSync(inputFile, JSON.stringify(Array.from(loadMnist(fixturePath("mnist")).image(0))));
  await Promise.all(
    ENGINES.map(async (engine) => {
      const node = await startLocalNode({ engine });
      const provider = new ethers.JsonRpcProvider(node.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337) });
      const deployments = join(tmp, `deployments-${engine}.json`);
      chains.set(engine, { node, provider, deployments });
      await json(cli("deploy", "--rpc", node.rpc, "--key", hardhatKey(0), "--deployments", deployments, "--window", String(WINDOW), "--json"));
      expect((await on(engine, "register", modelFile)).code).toBe(0);
      expect((await on(engine, "request", modelFile, "--input", inputFile, "--account", "1")).code).toBe(0); // request 1
    }),
  );
}, 120_000);

afterAll(async () => {
  if (savedKey !== undefined) process.env.MLVM_KEY = savedKey;
  for (const { node, provider } of chains.values()) {
    provider.destroy();
    await node.stop();
  }
}, 30_000);

describe.each(ENGINES)("a key that cannot pay (%s)", (engine) => {
  it("with no ETH: register, request and deploy are one line naming the address, its 0.0 ETH and the need; nothing is sent", async () => {
    const poor = await keyWith(engine, "0");
    const a = escaped(poor.address);
    await fails(on(engine, "register", modelFile, "--uri", "ipfs://x", "--key", poor.privateKey), 1, new RegExp(`^mlvm register: ${a} has 0\\.0 ETH; addWeightsURI needs ${ETH} ETH \\(gas ${ETH} ETH: \\d+ gas at [\\d.]+ gwei\\)$`));
    await fails(on(engine, "request", modelFile, "--input", inputFile, "--key", poor.privateKey), 1, new RegExp(`^mlvm request: ${a} has 0\\.0 ETH; request needs ${ETH} ETH \\(gas `));
    const file = join(tmp, `poor-${engine}.json`);
    const rpc = chains.get(engine)!.node.rpc;
    await fails(cli("deploy", "--rpc", rpc, "--key", poor.privateKey, "--deployments", file), 1, new RegExp(`^mlvm deploy: ${a} has 0\\.0 ETH; deploying the contracts needs ${ETH} ETH \\(gas ${ETH} ETH: \\d{7,} gas at `));
    expect(existsSync(file)).toBe(false);
    expect(await chains.get(engine)!.provider.getTransactionCount(poor.address)).toBe(0);
  });

  it("with 0.5 ETH, a claim (bond 1 ETH) names the balance and the bond plus gas; nothing is spent", async () => {
    const half = await keyWith(engine, "0.5");
    await fails(
      on(engine, "claim", "1", "--models", modelsDir, "--key", half.privateKey),
      1,
      // Hardhat estimates the gas of a transaction its sender cannot pay for; anvil refuses to, so the need is "more than" the bond.
      engine === "hardhat"
        ? new RegExp(`^mlvm claim: ${escaped(half.address)} has 0\\.5 ETH; claim needs 1\\.\\d{1,6} ETH \\(1\\.0 ETH value \\+ gas ${ETH} ETH: \\d+ gas at [\\d.]+ gwei\\)$`)
        : new RegExp(`^mlvm claim: ${escaped(half.address)} has 0\\.5 ETH; claim needs more than 1\\.0 ETH \\(1\\.0 ETH value \\+ gas\\)$`),
    );
    expect(await chains.get(engine)!.provider.getBalance(half.address)).toBe(ethers.parseEther("0.5"));
  });

  it("a transaction the node itself refuses for lack of funds maps to the same error (the daemon's path)", async () => {
    const poor = await keyWith(engine, "0.25");
    let refused: unknown;
    try {
      await poor.sendTransaction({ to: ethers.ZeroAddress, value: ethers.parseEther("1"), gasLimit: 21_000n }); // no estimate, no check: the node judges
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeDefined();
    const mapped = await asInsufficientFunds(refused, chains.get(engine)!.provider, poor.address, undefined, "the transfer");
    expect(mapped).toBeInstanceOf(InsufficientFundsError);
    expect((mapped as Error).message).toMatch(new RegExp(`^${escaped(poor.address)} has 0\\.25 ETH; the transfer needs (1\\.\\d{1,6} ETH|more) \\(value \\+ gas at the current fee\\)$`));
    const other = await asInsufficientFunds(new Error("nonce too low"), chains.get(engine)!.provider, poor.address, undefined, "the transfer");
    expect(other).not.toBeInstanceOf(InsufficientFundsError);
  });
});

describe("the real binary", () => {
  it("a key with no ETH: exit 1 and one short line on stderr (was exit 70 and a 4,220-character line with the signed transaction)", () => {
    const key = ethers.Wallet.createRandom();
    const deployments = chains.get("hardhat")!.deployments;
    const r = spawnSync(process.execPath, [join(root, "bin/mlvm.js"), "register", modelFile, "--uri", "ipfs://y", "--key", key.privateKey, "--deployments", deployments], { encoding: "utf8" });
    expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^mlvm register: ${key.address} has 0\\.0 ETH; addWeightsURI needs `));
    expect(r.stderr.length).toBeLessThan(300);
    expect(r.status).toBe(1);
  }, 30_000);
});

describe("mlvm deploy checks before it spends gas", () => {
  const rpc = () => chains.get("hardhat")!.node.rpc;
  const deployer = () => new ethers.Wallet(hardhatKey(5), chains.get("hardhat")!.provider);

  it("a deployments path that is a directory, or under a file, is refused and the deployer sends nothing", async () => {
    const dir = join(tmp, "a-directory.json");
    mkdirSync(dir);
    const blocker = join(tmp, "a-file");
    writeFileSync(blocker, "");
    await fails(cli("deploy", "--rpc", rpc(), "--key", hardhatKey(5), "--deployments", dir), 1, new RegExp(`^mlvm deploy: ${escaped(dir)} is a directory: --deployments names the file to write$`));
    await fails(cli("deploy", "--rpc", rpc(), "--key", hardhatKey(5), "--deployments", join(blocker, "d.json")), 1, new RegExp(`^mlvm deploy: ${escaped(join(blocker, "d.json"))}: ${escaped(blocker)} is a file, not a directory`));
    expect(await chains.get("hardhat")!.provider.getTransactionCount(deployer().address)).toBe(0);
  });

  it("zero bonds, window or clock are usage errors naming the option, for deploy and for node", async () => {
    for (const [option, value] of [["claim-bond", "0"], ["challenge-bond", "0.0"], ["window", "0"], ["clock", "0"]]) {
      await fails(cli("deploy", "--rpc", rpc(), "--key", hardhatKey(5), `--${option}`, value), 2, new RegExp(`^mlvm deploy: --${option} must be `));
      await fails(cli("node", `--${option}`, value), 2, new RegExp(`^mlvm node: --${option} must be `));
    }
    await fails(cli("deploy", "--rpc", rpc(), "--key", hardhatKey(5), "--claim-bond=-1"), 2, /^mlvm deploy: --claim-bond must be more than 0 ETH, got "-1"$/);
    expect(await chains.get("hardhat")!.provider.getTransactionCount(deployer().address)).toBe(0);
  });

  it("the key comes from --key, else $MLVM_KEY, else one line; a missing directory is created", async () => {
    await fails(cli("deploy", "--rpc", rpc()), 2, /^mlvm deploy: missing --key \(or set MLVM_KEY\)/);
    const file = join(tmp, "new", "nested", "deployments.json");
    process.env.MLVM_KEY = hardhatKey(5);
    try {
      const d = await json(cli("deploy", "--rpc", rpc(), "--deployments", file, "--json"));
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(d);
    } finally {
      delete process.env.MLVM_KEY;
    }
    expect(await chains.get("hardhat")!.provider.getTransactionCount(deployer().address)).toBe(3);
  });
});

describe("mlvm balance and mlvm withdraw", () => {
  const provider = () => chains.get("hardhat")!.provider;
  const claimant = () => new ethers.Wallet(hardhatKey(2), provider());

  it("a finalized claim's bond is credited; withdraw moves it to the wallet, less gas; then there is nothing to withdraw", async () => {
    // A bad file next to the model: the claim goes on, the file is skipped and named on stderr.
    const claiming = await on("hardhat", "claim", "1", "--models", modelsDir, "--account", "2", "--json");
    expect(claiming.err).toEqual([expect.stringMatching(/^warning: skipped \S+broken\.json: broken is not valid JSON/)]);
    const claimed = await json(Promise.resolve(claiming));
    await advanceTime(provider(), WINDOW + 1);
    await json(on("hardhat", "finalize", claimed.claimId, "--models", modelsDir, "--account", "3", "--json"));
    const before = await json(on("hardhat", "balance", "--account", "2", "--json"));
    expect(before).toEqual({ address: claimant().address, balance: (await provider().getBalance(claimant().address)).toString(), credit: ethers.parseEther("1").toString() });
    const text = await on("hardhat", "balance", "--address", claimant().address);
    expect(text.out).toBe(`${claimant().address}\n  balance  ${ethers.formatEther(before.balance)} ETH\n  credit   1.0 ETH in the oracle (mlvm withdraw moves it to the wallet)`);

    const w = await json(on("hardhat", "withdraw", "--account", "2", "--json"));
    expect(w).toMatchObject({ address: claimant().address, amount: ethers.parseEther("1").toString() });
    const receipt = (await provider().getTransactionReceipt(w.transactionHash))!;
    const fee = receipt.gasUsed * receipt.gasPrice;
    const after = await json(on("hardhat", "balance", "--account", "2", "--json"));
    expect(BigInt(after.balance)).toBe(BigInt(before.balance) + ethers.parseEther("1") - fee);
    expect(after.credit).toBe("0");

    const again = await on("hardhat", "withdraw", "--account", "2");
    expect(again).toEqual({ code: 0, out: `nothing to withdraw: ${claimant().address} has no credit in the oracle`, err: [] });
    expect(await provider().getTransactionCount(claimant().address)).toBe(2); // the claim and one withdraw
  });

  it("on a chain that is not local, balance --address needs no key, and without --address no key is one line", async () => {
    // anvil under another chain id: neither --account nor a throwaway key is a default there.
    const port = await freePort();
    const { file, args } = anvilCommand(port);
    const anvil = spawn(file, args.map((a) => (a === "31337" ? "4242" : a)), { stdio: "ignore" });
    const exited = new Promise((resolve) => anvil.once("exit", resolve));
    try {
      const rpc = `http://127.0.0.1:${port}`;
      await until("anvil (chain 4242)", 30, () => rpcChainId(rpc).then(() => true, () => false));
      const deployments = join(tmp, "deployments-4242.json");
      await json(cli("deploy", "--rpc", rpc, "--key", hardhatKey(0), "--deployments", deployments, "--json"));
      const someone = new ethers.Wallet(hardhatKey(4)).address;
      const b = await json(cli("balance", "--address", someone, "--deployments", deployments, "--json"));
      expect(b).toEqual({ address: someone, balance: ethers.parseEther("10000").toString(), credit: "0" });
      await fails(cli("balance", "--deployments", deployments), 1, /^mlvm balance: chain 4242 is not a local Hardhat chain: give --key or set MLVM_KEY$/);
      await fails(cli("balance", "--address", "0x1234", "--deployments", deployments), 2, /^mlvm balance: --address must be an address, got "0x1234"$/);
    } finally {
      anvil.kill("SIGTERM");
      await exited;
    }
  });
});
