/**
 * A block producer for a local chain (`hardhat node` or anvil: both answer evm_setAutomine, evm_setIntervalMining
 * and evm_mine with a timestamp), as on a live chain: automine off, so transactions wait in the
 * mempool and land together, and one block every `intervalMs` of wall time whose timestamp is the previous one +
 * `blockSeconds` (Ethereum's 12 s slot). Chain time then runs far ahead of the wall clock, so windows and clocks
 * of hours pass in minutes while every move still has to make it into a block.
 */
import { MlvmError } from "../vm/errors.js";

/** The node refused a mining call. */
export class MinerError extends MlvmError {}

/** One JSON-RPC call over fetch (an ethers provider would batch and cache; the miner wants neither). */
export async function rpcCall(rpc: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(rpc, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new MinerError(`${method}: ${body.error.message}`);
  return body.result;
}

/** Turns a development chain's automining on or off (off: a transaction waits for the next mined block). */
export async function setAutomine(rpc: string, on: boolean): Promise<void> {
  await rpcCall(rpc, "evm_setAutomine", [on]);
  if (!on) await rpcCall(rpc, "evm_setIntervalMining", [0]);
}

export interface Miner {
  /** Blocks mined so far. */
  readonly mined: number;
  /** The timestamp of the last block mined. */
  readonly lastTimestamp: number;
  /** Mines no more blocks (the chain stays with automine off); resolves once the loop has stopped. */
  stop(): Promise<void>;
}

export interface MinerOptions {
  /** Wall time between blocks (default 300 ms). */
  intervalMs?: number;
  /** Chain time between blocks (default 12 s). */
  blockSeconds?: number;
  /**
   * The base fee of each block it mines, by the block's index from the miner's start, or undefined to leave it to
   * EIP-1559 (hardhat_setNextBlockBaseFeePerGas, which anvil answers too): a fee spike on demand.
   */
  baseFeeWei?: (index: number) => bigint | undefined;
}

/** Turns automine off and mines a block at (previous + blockSeconds) every intervalMs until stopped. */
export async function startMiner(rpc: string, options: MinerOptions = {}): Promise<Miner> {
  const intervalMs = options.intervalMs ?? 300;
  const blockSeconds = options.blockSeconds ?? 12;
  await setAutomine(rpc, false);
  const latest = (await rpcCall(rpc, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
  let last = Number(BigInt(latest.timestamp));
  let mined = 0;
  let stopping = false;
  let failure: unknown;
  const loop = (async () => {
    while (!stopping) {
      const began = Date.now();
      try {
        const baseFee = options.baseFeeWei?.(mined);
        if (baseFee !== undefined) await rpcCall(rpc, "hardhat_setNextBlockBaseFeePerGas", ["0x" + baseFee.toString(16)]);
        await rpcCall(rpc, "evm_mine", [last + blockSeconds]);
        last += blockSeconds;
        mined++;
      } catch (error) {
        failure = error; // the node went away: the test that owns it reports its own errors
        return;
      }
      const wait = intervalMs - (Date.now() - began);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    get mined() {
      return mined;
    },
    get lastTimestamp() {
      return last;
    },
    async stop() {
      stopping = true;
      await loop;
      if (failure && !(failure instanceof TypeError)) throw failure;
    },
  };
}

/**
 * Mines an empty block every `intervalMs` of wall time while automine stays on, so that blocks keep coming on an
 * idle chain and confirmations mean something. Hardhat's evm_setIntervalMining does this by itself, in
 * milliseconds; anvil's takes seconds and turns automine off, so the loop is ours and the same on both engines.
 */
export function mineEvery(rpc: string, intervalMs: number): { stop(): Promise<void> } {
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
      if (stopping) return;
      try {
        await rpcCall(rpc, "evm_mine", []);
      } catch {
        return; // the node went away: whoever owns it reports that
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}
