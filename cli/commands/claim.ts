import type { Lie } from "../../challenger/claim-book.js";
import { checkModelFor, proposeClaim } from "../../challenger/proposer.js";
import { findRequest, outputFromLeaves, parseId } from "../../challenger/requests.js";
import { decodeOutput } from "../../interpreter/run.js";
import { toHex } from "../../vm/hash.js";
import { type Command, UsageError } from "../command.js";
import { onePositional, wholeNumberOption } from "../args.js";
import { CHAIN_OPTIONS, MODEL_OPTIONS, checkModelOptions, claimBookOf, describeClaimId, shelvedModel, toJson, withChain } from "../chain-options.js";

type Values = Record<string, string | boolean | undefined>;

/** --lie-output (a wrong output, every step before it right) or --lie-at-step K; undefined for an honest claim. */
function lieFrom(values: Values, steps: () => number): Lie | undefined {
  if (values["lie-output"] && values["lie-at-step"] !== undefined) throw new UsageError("give either --lie-output or --lie-at-step, not both");
  if (values["lie-output"]) return { step: steps() };
  const k = wholeNumberOption(values, "lie-at-step", "a step number");
  return k === undefined ? undefined : { step: k };
}

export const claimCommand: Command = {
  name: "claim",
  summary: "answer a request with a bonded claim from a traced run (honest, or with a planted lie)",
  usage: "mlvm claim REQUEST_ID --model FILE|--models DIR [--lie-output | --lie-at-step K] [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--state-dir DIR] [--json]",
  options: {
    ...MODEL_OPTIONS,
    "lie-output": { type: "boolean", description: "claim a wrong output (the first output + 1.0; a classifier's prediction the next class): only the final state is false" },
    "lie-at-step": { type: "string", valueName: "K", description: "claim garbage for every state from step K on (0 ≤ K ≤ N), and a wrong output" },
    ...CHAIN_OPTIONS,
  },
  details: [
    "Runs the request's input (from its InferenceRequested event) through the model, traced, and posts the trace",
    "root, the final state and the output with the oracle's claim bond. The claim is recorded in the claim book,",
    "<state-dir>/claims-<chainId>-<address>.json, so that the challenger daemon running the same key can defend it",
    "(a lying claim cannot be rebuilt otherwise). The lies are for demos and tests: a challenger wins the bond.",
    '--json prints {"claimId", "requestId", "modelId", "claimant", "traceRoot", "output", "prediction", "deadline",',
    '"gasUsed", "lie", "claimBook", "transactionHash"}.',
  ].join("\n"),
  async run(positionals, values, io) {
    const requestId = parseId(onePositional(positionals, "REQUEST_ID"), "REQUEST_ID");
    checkModelOptions(values, true);
    lieFrom(values, () => 0); // the command line's errors before any work
    await withChain(values, async (chain) => {
      const request = await findRequest(chain, requestId);
      const shelved = shelvedModel(values, request.modelId, io.err)!;
      checkModelFor(shelved, request);
      const lie = lieFrom(values, () => shelved.model.meta.steps);
      const book = claimBookOf(chain, values);
      const { claimId, gasUsed, view, deadline, receipt } = await proposeClaim(chain, shelved, request, book, lie);
      const { program } = shelved.model;
      const output = decodeOutput(program, outputFromLeaves(program, view.outputLeaves));
      const result = {
        claimId,
        requestId,
        modelId: request.modelId,
        claimant: chain.address,
        traceRoot: toHex(view.tree.root),
        output: output.values,
        prediction: output.prediction,
        deadline,
        gasUsed,
        lie: lie ?? null,
        claimBook: book.path,
        transactionHash: receipt.hash,
      };
      if (values.json) {
        io.out(toJson(result));
        return;
      }
      io.out(`claim ${describeClaimId(claimId)} by ${chain.address}${lie ? `: a LIE from step ${lie.step} of ${shelved.model.meta.steps}` : ": honest"}`);
      io.out(`  prediction  ${output.prediction}  outputs [${output.values.map((v) => v.toFixed(5)).join(", ")}]`);
      io.out(`  deadline    ${deadline} (${new Date(deadline * 1000).toISOString()}, chain time); challenges until then`);
      io.out(`  gas         ${gasUsed}`);
      io.out(`  recorded in ${book.path}`);
    });
  },
};
