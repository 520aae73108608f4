import { loadModel } from "../../compiler/compile.js";
import { modelFields } from "../../challenger/claims.js";
import { eventsIn } from "../../challenger/protocol.js";
import { ContractRevertError, sendTx } from "../../challenger/revert.js";
import type { Command } from "../command.js";
import { onePositional } from "../args.js";
import { CHAIN_OPTIONS, toJson, withChain } from "../chain-options.js";

export const registerCommand: Command = {
  name: "register",
  summary: "register a model's commitment in the ModelRegistry, or add a weights URI to a registered one",
  usage: "mlvm register MODEL.onnx|MODEL.json|MODEL.mlvm [--uri URI] [--deployments FILE] [--rpc URL] [--key KEY | --account N] [--json]",
  options: {
    uri: { type: "string", valueName: "URI", description: "where the weights can be downloaded (in an event only; default none)" },
    ...CHAIN_OPTIONS,
  },
  details: [
    "Registers the model's commitment fields; its id is the commitment `mlvm compile` prints. The weights never go",
    "on-chain. The registry records who registered a model first (its registrant), as a record: it gives no",
    "rights. Registering a model that is registered already is not an error: it prints the registrant and exits 0,",
    "so scripts can register unconditionally; with --uri it adds the URI to the model instead",
    "(ModelRegistry.addWeightsURI, which anyone may call: a wrong URI only costs a download whose commitment does",
    'not match). --json prints {"modelId", "registrant", "alreadyRegistered", "uri" (the URI this run recorded, or',
    'null), "uriAdded" (true when --uri was added to a registered model), "gasUsed", "transactionHash" (null when',
    "nothing was sent)}.",
  ].join("\n"),
  async run(positionals, values, io) {
    const path = onePositional(positionals, "MODEL");
    const model = loadModel(path);
    await withChain(values, async (chain) => {
      const modelId = model.meta.commitment.toLowerCase();
      const uri = values.uri as string | undefined;
      let result: { modelId: string; registrant: string; alreadyRegistered: boolean; uri: string | null; uriAdded: boolean; gasUsed: bigint | null; transactionHash: string | null };
      try {
        const receipt = await sendTx(chain.registry, "register", [modelFields(model), uri ?? ""]);
        const [event] = eventsIn(receipt, chain.registry, "ModelRegistered");
        result = { modelId, registrant: event.args.registrant as string, alreadyRegistered: false, uri: uri ?? null, uriAdded: false, gasUsed: receipt.gasUsed, transactionHash: receipt.hash };
      } catch (error) {
        if (!(error instanceof ContractRevertError && error.errorName === "ModelAlreadyRegistered")) throw error;
        const registrant = (await chain.registry.model(modelId)).registrant as string;
        result = { modelId, registrant, alreadyRegistered: true, uri: null, uriAdded: false, gasUsed: null, transactionHash: null };
        if (uri !== undefined) {
          const receipt = await sendTx(chain.registry, "addWeightsURI", [modelId, uri]);
          result = { ...result, uri, uriAdded: true, gasUsed: receipt.gasUsed, transactionHash: receipt.hash };
        }
      }
      if (values.json) {
        io.out(toJson(result));
        return;
      }
      if (result.uriAdded) {
        io.out(`model ${modelId} (${path}) is already registered (registrant ${result.registrant}): added weights URI ${uri}`);
        io.out(`  gas    ${result.gasUsed}`);
        return;
      }
      if (result.alreadyRegistered) {
        io.out(`model ${modelId} (${path}) is already registered (registrant ${result.registrant}): nothing to do`);
        return;
      }
      io.out(`registered model ${modelId} (${model.meta.name}, ${model.meta.steps} steps)`);
      io.out(`  registrant  ${result.registrant} (a record: it gives no rights)`);
      io.out(`  gas         ${result.gasUsed}`);
      if (uri) io.out(`  uri         ${uri}`);
    });
  },
};
