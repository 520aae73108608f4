import { ethers } from "ethers";
import { loadModel } from "../../compiler/compile.js";
import { inputLeaves } from "../../challenger/claims.js";
import { eventsIn } from "../../challenger/protocol.js";
import { requestFromEvent } from "../../challenger/requests.js";
import { sendTx } from "../../challenger/revert.js";
import { encodeInput } from "../../interpreter/run.js";
import { InputError } from "../../vm/errors.js";
import { type Command, UsageError } from "../command.js";
import { onePositional, requiredString } from "../args.js";
import { CHAIN_OPTIONS, toJson, withChain } from "../chain-options.js";
import { readInputs } from "../inputs.js";

export const requestCommand: Command = {
  name: "request",
  summary: "ask the oracle for an inference of a registered model on one input",
  usage: "mlvm request MODEL.onnx|MODEL.json|MODEL.mlvm --input FILE [--callback ADDRESS] [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--json]",
  options: {
    input: { type: "string", short: "i", valueName: "FILE", description: "a JSON array of numbers: the one input (as for mlvm run); - reads stdin" },
    callback: { type: "string", valueName: "ADDRESS", description: "a contract whose onInference() receives the final output (default none)" },
    ...CHAIN_OPTIONS,
  },
  details: [
    "The input is quantized to the model's input format and packed 8 words to a 32-byte leaf; the oracle stores only the initial",
    "state it commits to, and the InferenceRequested event carries the leaves for claimants to re-execute.",
    '--json prints {"requestId", "modelId", "requester", "callback", "initialState", "gasUsed", "transactionHash"}.',
  ].join("\n"),
  async run(positionals, values, io) {
    const model = loadModel(onePositional(positionals, "MODEL"));
    const inputPath = requiredString(values, "input");
    const batch = readInputs(inputPath, "--input", model.meta.inputSize, model.meta.inputShape);
    if (batch.length !== 1) throw new InputError(`input file ${inputPath} holds ${batch.length} inputs: a request takes one`);
    const leaves = inputLeaves(encodeInput(model.program, batch[0]));
    let callback = ethers.ZeroAddress;
    if (values.callback !== undefined) {
      if (!ethers.isAddress(values.callback)) throw new UsageError(`--callback must be an address, got "${String(values.callback)}"`);
      callback = ethers.getAddress(values.callback as string);
    }
    await withChain(values, async (chain) => {
      const receipt = await sendTx(chain.oracle, "request", [model.meta.commitment, leaves, callback]);
      const r = requestFromEvent(eventsIn(receipt, chain.oracle, "InferenceRequested")[0]);
      const result = {
        requestId: r.requestId,
        modelId: r.modelId,
        requester: r.requester,
        callback: r.callback,
        initialState: r.initialState,
        gasUsed: receipt.gasUsed,
        transactionHash: receipt.hash,
      };
      if (values.json) {
        io.out(toJson(result));
        return;
      }
      io.out(`request ${r.requestId} for model ${r.modelId}`);
      io.out(`  requester  ${r.requester}`);
      if (callback !== ethers.ZeroAddress) io.out(`  callback   ${r.callback}`);
      io.out(`  s0         ${r.initialState}`);
      io.out(`  gas        ${receipt.gasUsed}`);
    });
  },
};
