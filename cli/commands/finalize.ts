import { ethers } from "ethers";
import { finalizeClaim, viewOfClaim } from "../../challenger/proposer.js";
import { eventsIn } from "../../challenger/protocol.js";
import { findClaim, findRequest, outputFromLeaves, parseId, requestOfClaim } from "../../challenger/requests.js";
import { decodeOutput } from "../../interpreter/run.js";
import { MlvmError } from "../../vm/errors.js";
import type { Command } from "../command.js";
import { onePositional } from "../args.js";
import { CHAIN_OPTIONS, MODEL_OPTIONS, checkModelOptions, claimBookOf, describeClaimId, shelvedModel, toJson, withChain } from "../chain-options.js";

/** A claim whose trace root neither the honest run nor this key's claim book reproduces. */
export class ClaimNotReproducibleError extends MlvmError {}

export const finalizeCommand: Command = {
  name: "finalize",
  summary: "make a claim final once its challenge window has passed, delivering the output to the callback",
  usage: "mlvm finalize CLAIM_ID --model FILE|--models DIR [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--state-dir DIR] [--json]",
  options: { ...MODEL_OPTIONS, ...CHAIN_OPTIONS },
  details: [
    "The oracle keeps only a claim's trace root, so finalize proves the final state and the output again: they are",
    "rebuilt by re-running the request's input, or, for a claim this key made with a lie, from its claim book",
    "entry. Anyone may finalize an honest claim; the claimant's bond goes back to it. The window must have passed",
    "and no game may be open (the oracle reverts with ChallengeWindowOpen or GamesOpen otherwise). The callback",
    "gets its full 500,000 gas: finalize is sent with a 1,000,000 gas limit after a dry run (gas estimation cannot",
    "always find the oracle's threshold); unused gas is not paid for.",
    '--json prints {"claimId", "requestId", "callback", "callbackSucceeded", "output", "prediction", "gasUsed", "transactionHash"}.',
  ].join("\n"),
  async run(positionals, values, io) {
    const claimId = parseId(onePositional(positionals, "CLAIM_ID"), "CLAIM_ID");
    checkModelOptions(values, true);
    await withChain(values, async (chain) => {
      const claim = await findClaim(chain, claimId);
      const request = await findRequest(chain, requestOfClaim(claimId), claim.block);
      const shelved = shelvedModel(values, request.modelId, io.err)!;
      const view = viewOfClaim(shelved, request, claim, claimBookOf(chain, values));
      if (!view) {
        throw new ClaimNotReproducibleError(
          `claim ${claimId}'s trace root ${claim.traceRoot} is not reproducible: it is not an honest run of request ${request.requestId} and not in this key's claim book`,
        );
      }
      const hasCallback = request.callback !== ethers.ZeroAddress;
      const receipt = await finalizeClaim(chain, shelved, claimId, view);
      const finalized = eventsIn(receipt, chain.oracle, "Finalized")[0];
      const callbackSucceeded = finalized.args.callbackSucceeded as boolean;
      const { program } = shelved.model;
      const output = decodeOutput(program, outputFromLeaves(program, view.outputLeaves));
      const result = {
        claimId,
        requestId: request.requestId,
        callback: hasCallback ? request.callback : null,
        callbackSucceeded: hasCallback ? callbackSucceeded : null,
        output: output.values,
        prediction: output.prediction,
        gasUsed: receipt.gasUsed,
        transactionHash: receipt.hash,
      };
      if (values.json) {
        io.out(toJson(result));
        return;
      }
      io.out(`finalized claim ${describeClaimId(claimId)}; the claim bond is credited to ${claim.claimant}`);
      io.out(`  prediction  ${output.prediction}  outputs [${output.values.map((v) => v.toFixed(5)).join(", ")}]`);
      io.out(`  callback    ${hasCallback ? `${request.callback}: ${callbackSucceeded ? "delivered" : "FAILED (reverted or ran out of gas; the claim is final anyway)"}` : "none"}`);
      io.out(`  gas         ${receipt.gasUsed}`);
    });
  },
};
