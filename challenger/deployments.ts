/**
 * The deployments file: where the protocol's contracts live on a chain, written by `mlvm node` and `mlvm deploy`
 * and read by every command that talks to the chain.
 *   {"abiVersion": 1, "chainId": 31337, "rpc": "http://127.0.0.1:8545", "contracts": {"ModelRegistry": "0x…", …},
 *    "params": {"claimBond": "1000000000000000000", "challengeBond": …, "window": 3600, "clock": 1800, "splitBits": 4}, "deployedAt": …,
 *    "fromBlock": 0}
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { loadArtifact } from "../evm/artifacts.js";
import { asInsufficientFunds, checkFunds, feePerGas } from "./funds.js";
import { type Contracts, type ProtocolParams, deployContracts } from "./protocol.js";

/** Bumped whenever a contract's ABI changes incompatibly. */
export const ABI_VERSION = 2;

export interface Deployments {
  abiVersion: number;
  chainId: number;
  rpc: string;
  contracts: { ModelRegistry: string; OneStepVerifier: string; InferenceOracle: string; BisectionGame: string };
  params: { claimBond: string; challengeBond: string; window: number; clock: number; splitBits: number };
  deployedAt: string;
  /** The block before the first contract's: where event scans start (older files lack it: 0). */
  fromBlock?: number;
}

/** A deployments file that is missing, unreadable, or of another ABI version. */
export class DeploymentsError extends MlvmError {}

export const DEFAULT_PARAMS: ProtocolParams = { claimBond: ethers.parseEther("1"), challengeBond: ethers.parseEther("0.5"), window: 3600, clock: 1800, splitBits: 4 };

/** A chain that does not answer JSON-RPC at the URL given. */
export class RpcUnreachableError extends MlvmError {}

/**
 * The chain id at `rpc`, from one bare JSON-RPC request (an ethers provider would retry a dead URL forever,
 * logging as it goes).
 */
export async function rpcChainId(rpc: string): Promise<number> {
  try {
    const response = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(5000),
    });
    const { result } = (await response.json()) as { result?: string };
    if (typeof result !== "string") throw new Error("no chain id in the answer");
    return Number(BigInt(result));
  } catch (error) {
    throw new RpcUnreachableError(`no JSON-RPC answer at ${rpc} (${(error as Error).message})`);
  }
}

/** An ethers provider for a chain known to answer: its network pinned, its request cache off. */
export async function connect(rpc: string): Promise<ethers.JsonRpcProvider> {
  const chainId = await rpcChainId(rpc);
  return new ethers.JsonRpcProvider(rpc, undefined, { cacheTimeout: -1, staticNetwork: ethers.Network.from(chainId) });
}

/**
 * The gas the three deployments take, estimated before any is sent (the oracle's constructor only stores the
 * registry's and verifier's addresses, so the deployer's own address stands in for them).
 */
export async function deploymentGas(wallet: ethers.Wallet, params: ProtocolParams): Promise<bigint> {
  const estimate = async (name: string, ...args: unknown[]) => {
    const a = loadArtifact(name);
    return wallet.estimateGas(await new ethers.ContractFactory(a.abi, a.bytecode, wallet).getDeployTransaction(...args));
  };
  const p = params;
  const oracleArgs = [wallet.address, wallet.address, p.claimBond, p.challengeBond, p.window, p.clock, p.splitBits];
  return (await estimate("ModelRegistry")) + (await estimate("OneStepVerifier")) + (await estimate("InferenceOracle", ...oracleArgs));
}

export async function deployTo(rpc: string, key: string, params: ProtocolParams = DEFAULT_PARAMS): Promise<Deployments> {
  const provider = await connect(rpc);
  let wallet: ethers.Wallet;
  try {
    wallet = new ethers.Wallet(key, provider);
  } catch {
    throw new DeploymentsError("--key is not a valid private key (expected 32 bytes of hex)");
  }
  const network = await provider.getNetwork();
  const fromBlock = await provider.getBlockNumber();
  const what = "deploying the contracts";
  const cost = { gasLimit: await deploymentGas(wallet, params), maxFeePerGas: await feePerGas(provider) };
  await checkFunds(provider, wallet.address, cost, what);
  let c: Contracts;
  try {
    c = await deployContracts(wallet, params);
  } catch (error) {
    throw await asInsufficientFunds(error, provider, wallet.address, cost, what);
  }
  return {
    abiVersion: ABI_VERSION,
    chainId: Number(network.chainId),
    rpc,
    contracts: {
      ModelRegistry: await c.registry.getAddress(),
      OneStepVerifier: await c.verifier.getAddress(),
      InferenceOracle: await c.oracle.getAddress(),
      BisectionGame: await c.game.getAddress(),
    },
    params: { claimBond: params.claimBond.toString(), challengeBond: params.challengeBond.toString(), window: params.window, clock: params.clock, splitBits: params.splitBits },
    deployedAt: new Date().toISOString(),
    fromBlock,
  };
}

/**
 * Throws a DeploymentsError unless a deployments file can be written at `path` (checked before deploying, so
 * that gas is never spent on addresses that cannot be recorded): not a directory, writable if it exists, else
 * its nearest existing ancestor is a writable directory (writeDeployments creates the rest).
 */
export function checkDeploymentsWritable(path: string): void {
  const full = resolve(path);
  if (existsSync(full)) {
    if (statSync(full).isDirectory()) throw new DeploymentsError(`${path} is a directory: --deployments names the file to write`);
    try {
      accessSync(full, constants.W_OK);
    } catch (error) {
      throw new DeploymentsError(`${path} is not writable (${(error as NodeJS.ErrnoException).code}): cannot record the deployment there`);
    }
    return;
  }
  let dir = dirname(full);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) throw new DeploymentsError(`${path}: ${dir} is a file, not a directory: cannot record the deployment there`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new DeploymentsError(`${path}: directory ${dir} is not writable (${(error as NodeJS.ErrnoException).code}): cannot record the deployment there`);
  }
}

export function writeDeployments(path: string, d: Deployments): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(d, null, 2) + "\n");
}

export function readDeployments(path: string): Deployments {
  let d: Deployments;
  try {
    d = JSON.parse(readFileSync(path, "utf8")) as Deployments;
  } catch (error) {
    throw new DeploymentsError(`${path}: cannot read deployments (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (d.abiVersion !== ABI_VERSION) throw new DeploymentsError(`${path}: ABI version ${d.abiVersion}, this mlvm speaks ${ABI_VERSION}: redeploy`);
  return d;
}
