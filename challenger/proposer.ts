/**
 * The proposer's side: answer a request with a bonded claim built from a traced WASM run (honest, or with a
 * planted lie for demos and tests), record it in the claim book, and finalize it once its window has passed.
 */
import type { Trace } from "../interpreter/wasm/machine.js";
import { toHex } from "../vm/hash.js";
import { MlvmError } from "../vm/errors.js";
import type { Chain } from "./chain.js";
import { type BookEntry, type ClaimBook, type Lie } from "./claim-book.js";
import { type ClaimView, finalArgs, honestClaim, lyingClaim, modelFields } from "./claims.js";
import type { ShelvedModel } from "./models.js";
import { eventsIn } from "./protocol.js";
import { type ClaimInfo, type RequestInfo, inputFromLeaves } from "./requests.js";
import { decodeRevert, sendTx } from "./revert.js";

/** A lie that cannot be told: a step outside the trace. */
export class LieError extends MlvmError {}

/** The model a request or claim is about is not the one given. */
export class WrongModelError extends MlvmError {}

export function checkModelFor(shelved: ShelvedModel, request: RequestInfo): void {
  if (shelved.id !== request.modelId) throw new WrongModelError(`request ${request.requestId} is for model ${request.modelId}, not ${shelved.id} (${shelved.source})`);
}

/** A traced run of a request's input. Valid until the model's machine runs again. */
export function traceRequest(shelved: ShelvedModel, request: RequestInfo): Trace {
  checkModelFor(shelved, request);
  return shelved.machine.trace(inputFromLeaves(shelved.model.program, request.leaves));
}

/** The claim a proposer makes from a trace: the honest one, or one whose states from `lie.step` on are wrong. */
export function claimView(trace: Trace, lie?: Lie): ClaimView {
  if (!lie) return honestClaim(trace);
  if (!Number.isInteger(lie.step) || lie.step < 0 || lie.step > trace.steps) throw new LieError(`--lie-at-step must be a step in 0…${trace.steps}, got ${lie.step}`);
  return lyingClaim(trace, lie.step);
}

/** Posts a claim (with the oracle's claim bond) on `request` and records it in the book. */
export async function proposeClaim(chain: Chain, shelved: ShelvedModel, request: RequestInfo, book: ClaimBook, lie?: Lie) {
  const view = claimView(traceRequest(shelved, request), lie);
  const receipt = await sendTx(
    chain.oracle,
    "claim",
    [request.requestId, modelFields(shelved.model), toHex(view.tree.root), ...finalArgs(view, shelved.model.meta.steps)],
    await chain.oracle.claimBond(),
  );
  const event = eventsIn(receipt, chain.oracle, "Claimed")[0];
  const claimId = event.args.claimId as bigint;
  const entry: BookEntry = { requestId: request.requestId.toString(), modelId: shelved.id, traceRoot: toHex(view.tree.root), ...(lie ? { lie } : {}) };
  book.add(claimId, entry);
  return { claimId, gasUsed: receipt.gasUsed, view, deadline: Number(event.args.deadline), receipt };
}

/**
 * The view a claim was made from: its book entry's lie if the book has one, else the honest run. Null when
 * neither reproduces the claim's trace root (someone else's lie: nobody can rebuild it).
 */
export function viewOfClaim(shelved: ShelvedModel, request: RequestInfo, claim: Pick<ClaimInfo, "claimId" | "traceRoot">, book?: ClaimBook): ClaimView | null {
  const entry = book?.get(claim.claimId, claim.traceRoot);
  const view = claimView(traceRequest(shelved, request), entry?.lie);
  return toHex(view.tree.root) === claim.traceRoot.toLowerCase() ? view : null;
}

/** InferenceOracle.finalize's arguments for a claim made from `view`. */
export function finalizeArgs(claimId: bigint, shelved: ShelvedModel, view: ClaimView): unknown[] {
  return [claimId, modelFields(shelved.model), ...finalArgs(view, shelved.model.meta.steps)];
}

/**
 * finalize()'s gas limit, set rather than estimated: the oracle requires CALLBACK_GAS_NEEDED (~513,000) left before
 * a callback, and a node's estimator searching for the least gas that passes that check can overshoot the
 * per-transaction gas cap (EIP-7825, 16,777,216) and fail outright (Hardhat 2.29's does). The proofs' checks, the
 * writes and the event take ~130,000 for MNIST; the rest is margin (unused gas is not paid for).
 */
export const FINALIZE_GAS = 1_000_000n;

/**
 * Finalizes a claim whose window has passed with no open game: a dry run at FINALIZE_GAS first, so that a revert
 * (window open, games open) is reported by name and costs nothing, then the transaction. Returns the receipt.
 */
export async function finalizeClaim(chain: Chain, shelved: ShelvedModel, claimId: bigint, view: ClaimView) {
  const args = finalizeArgs(claimId, shelved, view);
  try {
    await chain.oracle.finalize.staticCall(...args, { gasLimit: FINALIZE_GAS });
  } catch (error) {
    throw decodeRevert(error, "finalize");
  }
  return sendTx(chain.oracle, "finalize", args, 0n, FINALIZE_GAS);
}
