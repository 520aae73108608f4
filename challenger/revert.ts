/**
 * Contract reverts as typed errors: every custom error of the protocol's contracts (the oracle's, the game's,
 * the registry's and the verifier's) is decoded by name, so a CLI user reads "ChallengeWindowClosed(…)" instead
 * of a hex blob, and the daemon can tell "someone moved first" (NotYourTurn) from a real failure. sendTx, the
 * one-shot commands' way to send, also refuses (funds.ts) a transaction its sender cannot pay for.
 */
import { ethers } from "ethers";
import { loadArtifact } from "../evm/artifacts.js";
import { MlvmError } from "../vm/errors.js";
import { type TxCost, asInsufficientFunds, checkFunds, feePerGas } from "./funds.js";

export class ContractRevertError extends MlvmError {
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    what: string,
  ) {
    super(`${what} reverted: ${errorName}(${args.map(String).join(", ")})`);
  }
}

let protocolErrors: ethers.Interface | undefined;

/** One interface holding the custom errors of every protocol contract. */
function errorsInterface(): ethers.Interface {
  if (!protocolErrors) {
    const fragments = new Map<string, ethers.ErrorFragment>();
    for (const name of ["InferenceOracle", "BisectionGame", "ModelRegistry", "OneStepVerifier"]) {
      for (const f of new ethers.Interface(loadArtifact(name).abi).fragments) if (f.type === "error") fragments.set(f.format(), f as ethers.ErrorFragment);
    }
    protocolErrors = new ethers.Interface([...fragments.values()]);
  }
  return protocolErrors;
}

/** The revert data inside an ethers error, wherever the provider put it. */
function revertData(error: unknown): string | undefined {
  for (let e = error as { data?: unknown; error?: unknown; info?: { error?: { data?: unknown } } } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.data === "string" && e.data.startsWith("0x") && e.data.length >= 10) return e.data;
    if (typeof e.info?.error?.data === "string") return e.info.error.data as string;
    e = e.error as typeof e;
  }
  return undefined;
}

/** A ContractRevertError when `error` is a revert with a known custom error, otherwise `error` unchanged. */
export function decodeRevert(error: unknown, what: string): unknown {
  const data = revertData(error);
  if (!data) return error;
  try {
    const parsed = errorsInterface().parseError(data);
    if (parsed) return new ContractRevertError(parsed.name, [...parsed.args], what);
  } catch {
    // not one of ours: fall through
  }
  return error;
}

/**
 * Sends `contract.method(...args)` and waits for its receipt. Nothing is spent on a transaction that cannot
 * succeed: a revert at estimation comes back as a ContractRevertError, and a sender that cannot pay the value
 * plus the gas (estimated, at the current fee) as an InsufficientFundsError naming its balance and the need.
 */
export async function sendTx(contract: ethers.Contract, method: string, args: unknown[], value?: bigint, gasLimit?: bigint): Promise<ethers.TransactionReceipt> {
  const signer = contract.runner as ethers.Signer | null;
  const provider = signer?.provider;
  const from = signer && provider ? await signer.getAddress() : undefined;
  let cost: TxCost | undefined;
  try {
    const fn = contract.getFunction(method);
    const valueOverride = value === undefined ? {} : { value };
    const limit = gasLimit ?? (await fn.estimateGas(...args, valueOverride));
    if (provider && from) {
      cost = { value: value ?? 0n, gasLimit: limit, maxFeePerGas: await feePerGas(provider) };
      await checkFunds(provider, from, cost, method);
    }
    const tx = (await fn(...args, { ...valueOverride, gasLimit: limit })) as ethers.ContractTransactionResponse;
    const receipt = await tx.wait();
    if (!receipt) throw new Error(`${method}: no receipt`);
    return receipt;
  } catch (error) {
    if (error instanceof MlvmError) throw error;
    const funds = provider && from ? await asInsufficientFunds(error, provider, from, cost ?? { value: value ?? 0n }, method) : error;
    throw decodeRevert(funds, method);
  }
}
