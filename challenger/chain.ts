/**
 * A connection to a deployment of the protocol: the provider, the signer and the four contracts, opened from a
 * deployments file. Every chain-facing command and the daemon start here, so the rules for choosing the RPC URL
 * and the key live in one place:
 *   - the RPC URL is --rpc, else the one the deployments file records;
 *   - the key is --key, else $MLVM_KEY, else (on a local Hardhat chain only) Hardhat's account --account N
 *     (default 0), derived from Hardhat's public test mnemonic.
 * Its `logs` is the one LogReader every event read on this connection goes through (chunked, halving a range the
 * provider refuses), so the chunk it settles on is shared by them all.
 */
import { ethers } from "ethers";
import { loadArtifact } from "../evm/artifacts.js";
import { MlvmError } from "../vm/errors.js";
import { type Deployments, DeploymentsError, connect, readDeployments } from "./deployments.js";
import type { Logger } from "./log.js";
import { LogReader } from "./log-reader.js";
import type { Contracts } from "./protocol.js";

/** Hardhat's default accounts come from this public mnemonic: they are for local chains only. */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
export const HARDHAT_CHAIN_ID = 31337;

/** A key that is not a key, or a local account asked for on a chain that is not local. */
export class KeyError extends MlvmError {}

/** A chain whose id differs from the deployments file's: the file is for another chain. */
export class ChainMismatchError extends MlvmError {}

export interface ChainOptions {
  deployments: string;
  rpc?: string;
  key?: string;
  account?: number;
  /** Blocks per eth_getLogs at first (default 2,000; halved whenever the provider refuses a range). */
  logChunk?: number;
  /** Told of each refused eth_getLogs range (log-reader.ts). */
  log?: Logger;
}

export interface Chain extends Contracts {
  deployments: Deployments;
  provider: ethers.JsonRpcProvider;
  wallet: ethers.Wallet;
  address: string;
  chainId: number;
  /** Event logs, read in chunks the provider accepts. */
  logs: LogReader;
}

let hardhatAccounts: ethers.HDNodeWallet | undefined;

/** The private key of local Hardhat account `n` (the mnemonic's seed is derived once: it is a slow PBKDF2). */
export function hardhatKey(n: number): string {
  hardhatAccounts ??= ethers.HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0");
  return hardhatAccounts.deriveChild(n).privateKey;
}

function signingKey(options: ChainOptions, chainId: number): string {
  const key = options.key ?? process.env.MLVM_KEY;
  if (key !== undefined) {
    if (options.account !== undefined) throw new KeyError("give either --key or --account, not both");
    return key;
  }
  if (chainId !== HARDHAT_CHAIN_ID) throw new KeyError(`chain ${chainId} is not a local Hardhat chain: give --key or set MLVM_KEY`);
  return hardhatKey(options.account ?? 0);
}

export function walletFor(key: string, provider?: ethers.Provider): ethers.Wallet {
  try {
    return new ethers.Wallet(key, provider);
  } catch {
    throw new KeyError("the key is not a valid private key (expected 32 bytes of hex)");
  }
}

/** The contracts of a deployments file, bound to a signer. */
export function contractsAt(d: Deployments, signer: ethers.Signer): Contracts {
  const at = (name: keyof Deployments["contracts"]) => new ethers.Contract(d.contracts[name], loadArtifact(name).abi, signer);
  return { registry: at("ModelRegistry"), verifier: at("OneStepVerifier"), oracle: at("InferenceOracle"), game: at("BisectionGame") };
}

export async function openChain(options: ChainOptions): Promise<Chain> {
  const deployments = readDeployments(options.deployments);
  const rpc = options.rpc ?? deployments.rpc;
  const provider = await connect(rpc);
  const chainId = Number((await provider.getNetwork()).chainId);
  if (chainId !== deployments.chainId) {
    throw new ChainMismatchError(`${options.deployments} is for chain ${deployments.chainId}, but ${rpc} is chain ${chainId}`);
  }
  if ((await provider.getCode(deployments.contracts.InferenceOracle)) === "0x") {
    throw new DeploymentsError(`${options.deployments}: no InferenceOracle at ${deployments.contracts.InferenceOracle} on ${rpc} (a restarted local chain? run mlvm node or mlvm deploy again)`);
  }
  const wallet = walletFor(signingKey(options, chainId), provider);
  const logs = new LogReader(provider, { chunk: options.logChunk, log: options.log });
  return { ...contractsAt(deployments, wallet), deployments, provider, wallet, address: wallet.address, chainId, logs };
}

/**
 * The chain's "now" as the next block will see it: the latest block's time, or the wall clock if later. A
 * development chain that automines makes no block while idle, so its latest block's time stands still while
 * windows and clocks (judged at the next block) run out.
 */
export function chainNow(latest: { timestamp: number }): number {
  return Math.max(latest.timestamp, Math.floor(Date.now() / 1000));
}
