/**
 * The Solidity one-step verifier in an in-process EVM (@ethereumjs/vm), and the differential check every
 * EVM suite makes: for a witness of s_k → s_{k+1}, the EVM must return the post-state hash the TypeScript
 * machinery computed, exactly; and for a witness that is not honest, both verifiers must give the same verdict.
 */
import { witnessArgs } from "../../evm/witness-args.js";
import { type Deployed, EvmRevertError, InProcessEvm } from "../../evm/inprocess.js";
import { toHex } from "../../vm/hash.js";
import { verifyStep } from "../../vm/onestep.js";
import { type StepWitness, WitnessError } from "../../vm/witness.js";

export async function deployVerifier(): Promise<Deployed> {
  const evm = await InProcessEvm.create();
  return evm.deploy("OneStepVerifier");
}

/** The EVM's post-state hash for a witness, as 0x-hex (throws EvmRevertError if it reverts). */
export async function evmPostState(verifier: Deployed, preStateHash: Uint8Array, witness: StepWitness): Promise<string> {
  const { result } = await verifier.call("verifyStep", [toHex(preStateHash), witnessArgs(witness)]);
  return result as string;
}

/** What a verifier makes of a witness: the post-state hash it returns, or "rejected" (a WitnessError / a revert). */
export type Verdict = string;

/** The TypeScript verifier's verdict (vm/onestep.ts); any error other than a WitnessError is rethrown. */
export function tsVerdict(preStateHash: Uint8Array, witness: StepWitness): Verdict {
  try {
    return toHex(verifyStep(preStateHash, witness));
  } catch (error) {
    if (error instanceof WitnessError) return "rejected";
    throw error;
  }
}

/** The Solidity verifier's verdict; a revert must be one of its custom Witness… errors, anything else is rethrown. */
export async function evmVerdict(verifier: Deployed, preStateHash: Uint8Array, witness: StepWitness): Promise<Verdict> {
  try {
    return await evmPostState(verifier, preStateHash, witness);
  } catch (error) {
    if (error instanceof EvmRevertError && error.errorName?.startsWith("Witness")) return "rejected";
    throw error;
  }
}
