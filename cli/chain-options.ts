/**
 * What the commands that talk to a deployed protocol share: the options that pick the deployments file, the RPC
 * URL, the key and the state directory (where the claim book lives), how they open a Chain, and the options
 * that name the model a request or claim is about (--model FILE, or --models DIR searched by model id).
 */
import { join } from "node:path";
import { ethers } from "ethers";
import { loadModel } from "../compiler/compile.js";
import { type Chain, HARDHAT_CHAIN_ID, openChain } from "../challenger/chain.js";
import { ClaimBook } from "../challenger/claim-book.js";
import { readDeployments } from "../challenger/deployments.js";
import { ModelShelf, type ShelvedModel } from "../challenger/models.js";
import { type Logger, bigintsAsStrings } from "../challenger/log.js";
import { MlvmError } from "../vm/errors.js";
import { type OptionSpec, UsageError } from "./command.js";
import { wholeNumberOption } from "./args.js";

type Values = Record<string, string | boolean | undefined>;

export const DEFAULT_DEPLOYMENTS = "deployments.json";
export const DEFAULT_STATE_DIR = ".mlvm";

export const CHAIN_OPTIONS: Record<string, OptionSpec> = {
  deployments: { type: "string", valueName: "FILE", description: `the deployments file (default ${DEFAULT_DEPLOYMENTS})` },
  rpc: { type: "string", valueName: "URL", description: "the chain's JSON-RPC endpoint (default: the deployments file's)" },
  key: { type: "string", valueName: "KEY", description: "the private key to send from (default $MLVM_KEY)" },
  account: { type: "string", valueName: "N", description: "without a key, on a local Hardhat chain (31337): Hardhat's account N (default 0)" },
  "state-dir": { type: "string", valueName: "DIR", description: `where the claim book is kept (default ${DEFAULT_STATE_DIR})` },
  "log-chunk": { type: "string", valueName: "BLOCKS", description: "blocks per eth_getLogs at first (default 2000; halved whenever the RPC refuses a range)" },
  json: { type: "boolean", description: "print the result as one JSON object" },
};

/** The models a chain command may be given: one file, or a directory searched by the on-chain model id. */
export const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string", valueName: "FILE", description: "the model (.onnx, .json or .mlvm) the request is for" },
  models: { type: "string", valueName: "DIR", description: "instead of --model: a directory of models, searched by model id" },
};

/** Where the claim book of `address` (the claimant's key) on chain `chainId` lives. */
export function claimBookPath(stateDir: string, chainId: number | bigint, address: string): string {
  return join(stateDir, `claims-${chainId}-${address.toLowerCase()}.json`);
}

/** The claim book of the chain's key, under --state-dir. */
export function claimBookOf(chain: Chain, values: Values): ClaimBook {
  return new ClaimBook(claimBookPath((values["state-dir"] as string | undefined) ?? DEFAULT_STATE_DIR, chain.chainId, chain.address));
}

/**
 * Opens the chain the options name. `readOnly`: a command that sends nothing works without a key on any chain
 * (it reads through a throwaway wallet when neither --key, $MLVM_KEY nor --account gives one and the chain is
 * not a local Hardhat chain).
 */
export async function openChainFrom(values: Values, { readOnly = false, log }: { readOnly?: boolean; log?: Logger } = {}): Promise<Chain> {
  const deployments = (values.deployments as string | undefined) ?? DEFAULT_DEPLOYMENTS;
  const account = wholeNumberOption(values, "account", "a non-negative integer");
  let key = values.key as string | undefined;
  if (readOnly && key === undefined && process.env.MLVM_KEY === undefined && account === undefined && readDeployments(deployments).chainId !== HARDHAT_CHAIN_ID) {
    key = ethers.Wallet.createRandom().privateKey;
  }
  const logChunk = wholeNumberOption(values, "log-chunk", "a whole number of blocks");
  if (logChunk !== undefined && logChunk < 1) throw new UsageError(`--log-chunk must be at least 1 block, got ${logChunk}`);
  return openChain({ deployments, rpc: values.rpc as string | undefined, key, account, logChunk, log });
}

/** Runs `fn` on the chain the options name, then closes the connection (a one-shot command leaves nothing open). */
export async function withChain<T>(values: Values, fn: (chain: Chain) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  const chain = await openChainFrom(values, options);
  try {
    return await fn(chain);
  } finally {
    chain.provider.destroy();
  }
}

/** --model or --models names no model with the id a request is for. */
export class ModelNotFoundError extends MlvmError {}

/** Exactly one of --model / --models, checked before anything touches the chain. */
export function checkModelOptions(values: Values, required: boolean): void {
  if (values.model !== undefined && values.models !== undefined) throw new UsageError("give either --model or --models, not both");
  if (required && values.model === undefined && values.models === undefined) throw new UsageError("missing --model FILE (or --models DIR)");
}

/**
 * The model with on-chain id `modelId` from --model (which must be it: WrongModelError later otherwise, as the
 * proposer checks) or --models; undefined if neither option is given.
 */
export function shelvedModel(values: Values, modelId: string, warn: (line: string) => void): ShelvedModel | undefined {
  if (typeof values.model === "string") return new ModelShelf().add(loadModel(values.model), values.model);
  if (typeof values.models === "string") {
    // A file that does not load is skipped, said on stderr: it must not stop the command using another model.
    const shelved = ModelShelf.fromDir(values.models, (skipped) => warn(`warning: skipped ${skipped.file}: ${skipped.reason}`)).get(modelId);
    if (!shelved) throw new ModelNotFoundError(`--models ${values.models} holds no model with id ${modelId}`);
    return shelved;
  }
  return undefined;
}

/** JSON.stringify with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, bigintsAsStrings);
}

/** "4294967297 (request 1, attempt 1)". */
export function describeClaimId(claimId: bigint): string {
  return `${claimId} (request ${claimId >> 32n}, attempt ${claimId & 0xffffffffn})`;
}
