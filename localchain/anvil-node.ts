/**
 * Foundry's anvil as the second local chain engine: where its binary is (the npm package @foundry-rs/anvil installs
 * it as the platform package @foundry-rs/anvil-<platform>-<arch>; its own bin.mjs is a Node wrapper, so the binary
 * is spawned directly and stopping the child stops the chain), the command line that makes it look like
 * `hardhat node` to mlvm (same chain id, same 20 funded accounts, same block and transaction gas limits), and the
 * reorganization only anvil can make on demand (anvil_reorg), for tests of what agents do when blocks vanish.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { MlvmError } from "../vm/errors.js";
import type { ChainCommand } from "./hardhat-node.js";
import { rpcCall } from "./miner.js";

/** The anvil binary for this platform is not installed. */
export class AnvilMissingError extends MlvmError {}

/** Hardhat 2.29's block gas limit; anvil's own default is 30,000,000. */
export const HARDHAT_BLOCK_GAS_LIMIT = 60_000_000;

/** The path of the anvil binary of @foundry-rs/anvil-<platform>-<arch>. */
export function anvilBinary(): string {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  const name = process.platform === "win32" ? "anvil.exe" : "anvil";
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`;
  try {
    const path = createRequire(import.meta.url).resolve(`${pkg}/bin/${name}`);
    if (existsSync(path)) return path;
  } catch {
    // reported below
  }
  throw new AnvilMissingError(`anvil is not installed for ${process.platform}-${process.arch} (no package ${pkg}): run npm ci, or use --engine hardhat`);
}

/**
 * anvil on 127.0.0.1:`port`, quiet, as `hardhat node` is set up: chain id 31337, the 20 funded accounts of the test
 * mnemonic (anvil's default is 10), a 60M block gas limit and the EIP-7825 per-transaction cap of 2^24 gas, which
 * Hardhat enforces and anvil only on request. anvil's hardfork stays its default (post-Osaka).
 */
export function anvilCommand(port: number): ChainCommand {
  return {
    file: anvilBinary(),
    args: ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337", "--accounts", "20", "--gas-limit", String(HARDHAT_BLOCK_GAS_LIMIT), "--enable-tx-gas-limit", "--quiet"],
    env: {},
  };
}

/** A transaction for anvil_reorg to put in a replacement block: a transaction request (from an unlocked account) or raw signed bytes. */
export type ReorgTx = Record<string, unknown> | string;

/**
 * Replaces the last `depth` blocks of an anvil chain with new ones (the height stays the same): the transactions
 * they held are dropped, and each of `txs` ([transaction, offset]) goes into the replacement block at that offset
 * from the first replaced one. Only anvil answers anvil_reorg.
 */
export async function reorg(rpc: string, depth: number, txs: [ReorgTx, number][] = []): Promise<void> {
  await rpcCall(rpc, "anvil_reorg", [depth, txs]);
}
