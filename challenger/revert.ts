/**
 * Contract reverts as typed errors: every custom error of the protocol's contracts (the oracle's, the game's,
 * the registry's and the verifier's) is decoded by name, so a CLI user reads "ChallengeWindowClosed(…)" instead
 * of a hex blob, and the daemon can tell "someone moved first" (NotYourTurn) from a real failure.
 */
import { ethers } from "ethers";
import { loadArtifact } from "../evm/artifacts.js";
import { MlvmError } from "../vm/errors.js";

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
 * Sends `contract.method(...args)` and waits for its receipt; a revert (at estimation, before anything is
 * spent) comes back as a ContractRevertError.
 */
export async function sendTx(contract: ethers.Contract, method: string, args: unknown[], value?: bigint, gasLimit?: bigint): Promise<ethers.TransactionReceipt> {
  try {
    const overrides = { ...(value === undefined ? {} : { value }), ...(gasLimit === undefined ? {} : { gasLimit }) };
    const tx = (await contract.getFunction(method)(...args, ...(Object.keys(overrides).length ? [overrides] : []))) as ethers.ContractTransactionResponse;
    const receipt = await tx.wait();
    if (!receipt) throw new Error(`${method}: no receipt`);
    return receipt;
  } catch (error) {
    throw decodeRevert(error, method);
  }
}
