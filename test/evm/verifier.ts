/**
 * The Solidity one-step verifier in an in-process EVM (@ethereumjs/vm), and the differential check every
 * EVM suite makes: for a witness of s_k → s_{k+1}, the EVM must return the post-state hash the TypeScript
 * machinery computed, exactly.
 */
import { witnessArgs } from "../../evm/witness-args.js";
import { type Deployed, InProcessEvm } from "../../evm/inprocess.js";
import { toHex } from "../../vm/hash.js";
import type { StepWitness } from "../../vm/witness.js";

export async function deployVerifier(): Promise<Deployed> {
  const evm = await InProcessEvm.create();
  return evm.deploy("OneStepVerifier");
}

/** The EVM's post-state hash for a witness, as 0x-hex (throws EvmRevertError if it reverts). */
export async function evmPostState(verifier: Deployed, preStateHash: Uint8Array, witness: StepWitness): Promise<string> {
  const { result } = await verifier.call("verifyStep", [toHex(preStateHash), witnessArgs(witness)]);
  return result as string;
}
