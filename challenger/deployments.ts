/**
 * The deployments file: where the protocol's contracts live on a chain, written by `mlvm node` and `mlvm deploy`
 * and read by every command that talks to the chain.
 *   {"abiVersion": 1, "chainId": 31337, "rpc": "http://127.0.0.1:8545", "contracts": {"ModelRegistry": "0x…", …},
 *    "params": {"claimBond": "1000000000000000000", "challengeBond": …, "window": 3600, "clock": 1800, "splitBits": 4}, "deployedAt": …,
 *    "fromBlock": 0}
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ethers } from "ethers";
import { MlvmError } from "../vm/errors.js";
import { type ProtocolParams, deployContracts } from "./protocol.js";

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
  const c = await deployContracts(wallet, params);
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

export function writeDeployments(path: string, d: Deployments): void {
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
