/**
 * `mlvm node` and `mlvm deploy` against a real Hardhat node over JSON-RPC: the node comes up on 127.0.0.1, the
 * contracts are deployed and the deployments file points at them, with their parameters; `mlvm deploy` deploys
 * again to the same chain (with another claim bond, another split); a split outside 1–8 or a taken port is refused
 * before anything starts; SIGTERM stops the node and its chain process. Then `mlvm node --engine E` for both
 * engines as real processes: each deploys and serves the same chain set-up (chain id, accounts, gas limit),
 * SIGINT stops it and its chain, and a chain killed under it makes it exit 1 in one line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ethers } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployments, readDeployments } from "../../challenger/deployments.js";
import { main } from "../../cli/main.js";
import { hardhatKey } from "../../challenger/chain.js";
import { ENGINES } from "../../localchain/local-node.js";
import { freePort } from "../../localchain/ports.js";
import { until } from "./harness.js";
import { listening, running, spawnMlvm } from "./processes.js";

const HARDHAT_KEY_0 = hardhatKey(0);

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "mlvm-node-"));
const file = join(tmp, "deployments.json");
let port = 0;
let node: ChildProcess;
let exited: Promise<number | null>;
let stdout = "";

beforeAll(async () => {
  port = await freePort();
  node = spawn(process.execPath, [join(root, "bin/mlvm.js"), "node", "--port", String(port), "--deployments", file, "--window", "600"], { stdio: ["ignore", "pipe", "pipe"] });
  node.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  exited = new Promise((resolve) => node.once("exit", resolve));
  await until("the deployments file", 90, () => existsSync(file) && stdout.includes("\n"));
}, 120_000);

afterAll(async () => {
  if (node.exitCode === null) node.kill("SIGTERM");
});

describe("mlvm node", () => {
  it("serves JSON-RPC on 127.0.0.1 with the contracts deployed where the deployments file says", async () => {
    const d: Deployments = readDeployments(file);
    expect(d).toMatchObject({ abiVersion: 2, chainId: 31337, rpc: `http://127.0.0.1:${port}` });
    expect(d.params).toEqual({ claimBond: ethers.parseEther("1").toString(), challengeBond: ethers.parseEther("0.5").toString(), window: 600, clock: 1800, splitBits: 4 });
    const provider = new ethers.JsonRpcProvider(d.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337) });
    for (const address of Object.values(d.contracts)) expect((await provider.getCode(address)).length).toBeGreaterThan(1000);
    const oracle = new ethers.Contract(d.contracts.InferenceOracle, ["function game() view returns (address)", "function challengeWindow() view returns (uint64)"], provider);
    expect(await oracle.game()).toBe(d.contracts.BisectionGame);
    expect(await oracle.challengeWindow()).toBe(600n);
    const game = new ethers.Contract(d.contracts.BisectionGame, ["function splitBits() view returns (uint8)"], provider);
    expect(await game.splitBits()).toBe(4n);
  });

  it("mlvm deploy deploys to any chain by RPC URL and key", async () => {
    const second = join(tmp, "second.json");
    const out: string[] = [];
    const code = await main(["deploy", "--rpc", `http://127.0.0.1:${port}`, "--key", HARDHAT_KEY_0, "--deployments", second, "--claim-bond", "2", "--json"], { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const d = JSON.parse(out[0]) as Deployments;
    expect(d.params.claimBond).toBe(ethers.parseEther("2").toString());
    expect(d.contracts.InferenceOracle).not.toBe(readDeployments(file).contracts.InferenceOracle);
    expect(JSON.parse(readFileSync(second, "utf8"))).toEqual(d);
  });

  it("--split-bits M is deployed, recorded in params.splitBits and printed", async () => {
    const third = join(tmp, "third.json");
    const out: string[] = [];
    const code = await main(["deploy", "--rpc", `http://127.0.0.1:${port}`, "--key", HARDHAT_KEY_0, "--deployments", third, "--split-bits", "6"], { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    expect(out.at(-1)).toBe("  claim bond 1.0 ETH, challenge bond 0.5 ETH, window 3600 s, clock 1800 s, split bits 6 (a game round reveals 64 nodes)");
    const d = readDeployments(third);
    expect(d.params.splitBits).toBe(6);
    const provider = new ethers.JsonRpcProvider(d.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337) });
    const game = new ethers.Contract(d.contracts.BisectionGame, ["function splitBits() view returns (uint8)"], provider);
    expect(await game.splitBits()).toBe(6n);
    provider.destroy();
  });

  it("--split-bits outside 1–8 is one line and exit 2, before anything is deployed or started", async () => {
    for (const [command, value] of [["deploy", "0"], ["deploy", "9"], ["node", "9"], ["node", "0"], ["deploy", "four"]]) {
      const out: string[] = [];
      const err: string[] = [];
      const extra = command === "deploy" ? ["--rpc", `http://127.0.0.1:${port}`, "--key", HARDHAT_KEY_0, "--deployments", join(tmp, "never.json")] : ["--port", String(port), "--deployments", join(tmp, "never.json")];
      expect(await main([command, ...extra, "--split-bits", value], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(2);
      expect(out).toEqual([]);
      expect(err).toEqual([`mlvm ${command}: --split-bits must be a whole number from 1 to 8, got ${/^\d+$/.test(value) ? value : `"${value}"`}`]);
    }
    expect(existsSync(join(tmp, "never.json"))).toBe(false);
  });

  it("a bad key or an unreachable chain is one line and a non-zero exit", async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(await main(["deploy", "--rpc", `http://127.0.0.1:${port}`, "--key", "0x1234"], io)).toBe(1);
    expect(err.at(-1)).toMatch(/--key is not a valid private key/);
    expect(await main(["deploy", "--rpc", `http://127.0.0.1:${port}`, "--key", HARDHAT_KEY_0, "--window", "soon"], io)).toBe(2);
    expect(err.at(-1)).toMatch(/--window must be a whole number of seconds/);
    expect(await main(["deploy", "--rpc", `http://127.0.0.1:${await freePort()}`, "--key", HARDHAT_KEY_0], io)).toBe(1);
    expect(err.at(-1)).toMatch(/no JSON-RPC answer at http:\/\/127\.0\.0\.1:\d+/);
  });

  it("a port in use is refused in one line (exit 1) before anything starts: no second contract set, the deployments file untouched", async () => {
    const before = readFileSync(file, "utf8");
    const modified = statSync(file).mtimeMs;
    const provider = new ethers.JsonRpcProvider(`http://127.0.0.1:${port}`, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337) });
    const nonce = await provider.getTransactionCount(new ethers.Wallet(HARDHAT_KEY_0).address);
    // The default engine (as before --engine existed) and anvil.
    const runs = [[], ["--engine", "anvil"]].map((engine) => spawnMlvm(["node", ...engine, "--port", String(port), "--deployments", file]));
    for (const [k, run] of runs.entries()) {
      expect(await run.exited, ENGINES[k]).toEqual({ code: 1, signal: null });
      expect(run.err).toEqual([`mlvm node: port ${port} on 127.0.0.1 is already in use (another chain or program listens there): give another --port`]);
      expect(run.out).toEqual([]);
    }
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(statSync(file).mtimeMs).toBe(modified);
    expect(await provider.getTransactionCount(new ethers.Wallet(HARDHAT_KEY_0).address)).toBe(nonce);
    provider.destroy();
  }, 60_000);

  it("stops on SIGTERM, and the chain with it: exit 0, the port closed, the chain's process gone", async () => {
    const pid = Number(/\(hardhat, pid (\d+)\)/.exec(stdout)?.[1]);
    expect(running(pid)).toBe(true);
    expect(node.pid).not.toBe(pid);
    node.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(await listening(port)).toBe(false);
    expect(running(pid)).toBe(false);
  }, 30_000);
});

describe.each(ENGINES)("mlvm node --engine %s", (engine) => {
  it("deploys and serves chain 31337 with 20 funded test accounts and a 60M block gas limit; a chain killed under it is one line and exit 1", async () => {
    const p = await freePort();
    const f = join(tmp, `${engine}.json`);
    const run = spawnMlvm(["node", "--engine", engine, "--port", String(p), "--deployments", f]);
    try {
      const [, pid] = await run.waitForOut(new RegExp(`^local chain 31337 at http://127\\.0\\.0\\.1:${p} \\(${engine}, pid (\\d+)\\); contracts deployed`));
      // The printed pid is the chain itself, spawned by this mlvm node (the binary, not a wrapper).
      expect(run.child(engine === "anvil" ? /anvil --host 127\.0\.0\.1/ : /hardhat node --hostname 127\.0\.0\.1/)).toBe(Number(pid));
      const d = readDeployments(f);
      expect(d).toMatchObject({ chainId: 31337, rpc: `http://127.0.0.1:${p}` });
      const provider = new ethers.JsonRpcProvider(d.rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(31337) });
      const accounts = (await provider.send("eth_accounts", [])) as string[];
      expect(accounts).toHaveLength(20);
      expect(accounts[19].toLowerCase()).toBe(new ethers.Wallet(hardhatKey(19)).address.toLowerCase());
      expect(await provider.getBalance(accounts[19])).toBe(ethers.parseEther("10000"));
      expect((await provider.getBlock("latest"))!.gasLimit).toBe(60_000_000n);
      // The EIP-7825 per-transaction cap (2^24 gas) holds on both: a transaction asking one more is refused.
      const sender = new ethers.Wallet(hardhatKey(18), provider);
      await expect(sender.sendTransaction({ to: accounts[19], value: 1n, gasLimit: 2n ** 24n + 1n })).rejects.toThrow();
      expect(await provider.getBalance(accounts[19])).toBe(ethers.parseEther("10000"));
      expect((await (await sender.sendTransaction({ to: accounts[19], value: 1n, gasLimit: 2n ** 24n })).wait())!.status).toBe(1);
      const oracle = new ethers.Contract(d.contracts.InferenceOracle, ["function game() view returns (address)"], provider);
      expect(await oracle.game()).toBe(d.contracts.BisectionGame);
      provider.destroy();
      process.kill(Number(pid), "SIGKILL");
      expect(await run.exited).toEqual({ code: 1, signal: null });
      expect(run.err).toEqual([`mlvm node: the ${engine} chain (pid ${pid}) stopped on its own (killed by SIGKILL); the contracts in ${f} went with it`]);
    } finally {
      run.process.kill("SIGKILL");
    }
  }, 120_000);

  it("SIGINT stops it and its chain: exit 0, the port closed, the chain's process gone", async () => {
    const p = await freePort();
    const run = spawnMlvm(["node", "--engine", engine, "--port", String(p), "--deployments", join(tmp, `${engine}-sigint.json`)]);
    try {
      const [, pid] = await run.waitForOut(/\(\w+, pid (\d+)\); contracts deployed/);
      expect(running(Number(pid))).toBe(true);
      run.process.kill("SIGINT");
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.out.at(-1)).toBe("local chain stopped");
      expect(run.err).toEqual([]);
      expect(await listening(p)).toBe(false);
      expect(running(Number(pid))).toBe(false);
    } finally {
      run.process.kill("SIGKILL");
    }
  }, 120_000);
});

it("mlvm node --engine other than hardhat or anvil is one line and exit 2", async () => {
  const err: string[] = [];
  expect(await main(["node", "--engine", "geth", "--port", String(await freePort())], { out: () => {}, err: (l) => err.push(l) })).toBe(2);
  expect(err).toEqual(['mlvm node: --engine must be hardhat or anvil, got "geth"']);
});
