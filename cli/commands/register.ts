import { loadModel } from "../../compiler/compile.js";
import { modelFields } from "../../challenger/claims.js";
import { eventsIn } from "../../challenger/protocol.js";
import { ContractRevertError, sendTx } from "../../challenger/revert.js";
import type { Command } from "../command.js";
import { onePositional } from "../args.js";
import { CHAIN_OPTIONS, toJson, withChain } from "../chain-options.js";

export const registerCommand: Command = {
  name: "register",
  summary: "register a model's commitment in the ModelRegistry",
  usage: "mlvm register MODEL.onnx|MODEL.json|MODEL.mlvm [--uri URI] [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--json]",
  options: {
    uri: { type: "string", valueName: "URI", description: "where the weights can be downloaded (recorded in the event only; default none)" },
    ...CHAIN_OPTIONS,
  },
  details: [
    "Registers the model's commitment fields; its id is the commitment `mlvm compile` prints. The weights never go",
    "on-chain. Registering a model that is registered already is not an error: it prints the existing owner",
    "and exits 0, so scripts can register unconditionally (--json has \"alreadyRegistered\": true).",
  ].join("\n"),
  async run(positionals, values, io) {
    const path = onePositional(positionals, "MODEL");
    const model = loadModel(path);
    await withChain(values, async (chain) => {
      const modelId = model.meta.commitment.toLowerCase();
      const uri = (values.uri as string | undefined) ?? "";
      let result: { modelId: string; owner: string; alreadyRegistered: boolean; gasUsed: bigint | null; transactionHash: string | null; uri: string | null };
      try {
        const receipt = await sendTx(chain.registry, "register", [modelFields(model), uri]);
        const [event] = eventsIn(receipt, chain.registry, "ModelRegistered");
        result = { modelId, owner: event.args.owner as string, alreadyRegistered: false, gasUsed: receipt.gasUsed, transactionHash: receipt.hash, uri };
      } catch (error) {
        if (!(error instanceof ContractRevertError && error.errorName === "ModelAlreadyRegistered")) throw error;
        const existing = await chain.registry.model(modelId);
        result = { modelId, owner: existing.owner as string, alreadyRegistered: true, gasUsed: null, transactionHash: null, uri: null };
      }
      if (values.json) {
        io.out(toJson(result));
        return;
      }
      if (result.alreadyRegistered) {
        io.out(`model ${modelId} (${path}) is already registered, owner ${result.owner}: nothing to do`);
        return;
      }
      io.out(`registered model ${modelId} (${model.meta.name}, ${model.meta.steps} steps)`);
      io.out(`  owner  ${result.owner}`);
      io.out(`  gas    ${result.gasUsed}`);
      if (uri) io.out(`  uri    ${uri}`);
    });
  },
};
