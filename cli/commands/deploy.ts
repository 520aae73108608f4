import { ethers } from "ethers";
import { DEFAULT_PARAMS, type Deployments, deployTo, writeDeployments } from "../../challenger/deployments.js";
import { type Command, UsageError } from "../command.js";
import { requiredString, wholeNumberOption } from "../args.js";

export const PROTOCOL_OPTIONS = {
  "claim-bond": { type: "string", valueName: "ETH", description: `the claim bond (default ${ethers.formatEther(DEFAULT_PARAMS.claimBond)})` },
  "challenge-bond": { type: "string", valueName: "ETH", description: `the challenge bond (default ${ethers.formatEther(DEFAULT_PARAMS.challengeBond)})` },
  window: { type: "string", valueName: "SECONDS", description: `the challenge window (default ${DEFAULT_PARAMS.window})` },
  clock: { type: "string", valueName: "SECONDS", description: `each party's clock in a game (default ${DEFAULT_PARAMS.clock})` },
  "split-bits": { type: "string", valueName: "M", description: `each round of a game reveals 2^M trace nodes, 1–8 (default ${DEFAULT_PARAMS.splitBits})` },
} as const;

/** The parameters a deployments file records, in one line: "claim bond 1.0 ETH, challenge bond 0.5 ETH, …". */
export function paramsText(p: Deployments["params"]): string {
  return `claim bond ${ethers.formatEther(p.claimBond)} ETH, challenge bond ${ethers.formatEther(p.challengeBond)} ETH, window ${p.window} s, clock ${p.clock} s, split bits ${p.splitBits} (a game round reveals ${2 ** p.splitBits} nodes)`;
}

export function protocolParams(values: Record<string, string | boolean | undefined>) {
  const seconds = (name: string, fallback: number) => wholeNumberOption(values, name, "a whole number of seconds") ?? fallback;
  const ether = (name: string, fallback: bigint) => {
    const v = values[name];
    if (v === undefined) return fallback;
    try {
      return ethers.parseEther(String(v));
    } catch {
      throw new UsageError(`--${name} must be an amount of ether, got "${v}"`);
    }
  };
  return {
    claimBond: ether("claim-bond", DEFAULT_PARAMS.claimBond),
    challengeBond: ether("challenge-bond", DEFAULT_PARAMS.challengeBond),
    window: seconds("window", DEFAULT_PARAMS.window),
    clock: seconds("clock", DEFAULT_PARAMS.clock),
    splitBits: splitBits(values),
  };
}

function splitBits(values: Record<string, string | boolean | undefined>): number {
  const m = wholeNumberOption(values, "split-bits", "a whole number from 1 to 8") ?? DEFAULT_PARAMS.splitBits;
  if (m < 1 || m > 8) throw new UsageError(`--split-bits must be a whole number from 1 to 8, got ${m}`);
  return m;
}

export const deployCommand: Command = {
  name: "deploy",
  summary: "deploy the protocol's contracts to an EVM chain and write a deployments file",
  usage: "mlvm deploy --rpc URL --key KEY [--deployments FILE] [--claim-bond ETH] [--challenge-bond ETH] [--window S] [--clock S] [--split-bits M] [--json]",
  options: {
    rpc: { type: "string", valueName: "URL", description: "the chain's JSON-RPC endpoint" },
    key: { type: "string", valueName: "KEY", description: "the deployer's private key (hex)" },
    deployments: { type: "string", valueName: "FILE", description: "where to write the addresses (default deployments.json)" },
    ...PROTOCOL_OPTIONS,
    json: { type: "boolean", description: "print the deployments as JSON" },
  },
  details: [
    "Deploys ModelRegistry, OneStepVerifier and InferenceOracle (which creates its BisectionGame) and writes the",
    "deployments file: addresses, chain id, ABI version and the parameters (params.claimBond and",
    "params.challengeBond in wei, params.window and params.clock in seconds, params.splitBits: m, so that each",
    "round of a game reveals 2^m trace nodes and a trace of depth D takes ⌈D / m⌉ rounds). --json prints the same.",
  ].join("\n"),
  async run(_positionals, values, io) {
    const d = await deployTo(requiredString(values, "rpc"), requiredString(values, "key"), protocolParams(values));
    const file = (values.deployments as string | undefined) ?? "deployments.json";
    writeDeployments(file, d);
    if (values.json) return io.out(JSON.stringify(d));
    io.out(`deployed to chain ${d.chainId} (${d.rpc}), addresses in ${file}`);
    for (const [name, address] of Object.entries(d.contracts)) io.out(`  ${name.padEnd(16)} ${address}`);
    io.out(`  ${paramsText(d.params)}`);
  },
};
