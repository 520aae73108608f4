import { ethers } from "ethers";
import { DEFAULT_PARAMS, type Deployments, checkDeploymentsWritable, deployTo, writeDeployments } from "../../challenger/deployments.js";
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

/**
 * The protocol's parameters from the command line, refused before anything is sent when a contract would accept
 * them but the protocol would not work: a zero bond (lying or challenging would be free), a zero window (no
 * claim could be challenged) or a zero clock (every game lost on time at once).
 */
export function protocolParams(values: Record<string, string | boolean | undefined>) {
  const seconds = (name: string, fallback: number, max: number) => {
    const s = wholeNumberOption(values, name, "a whole number of seconds") ?? fallback;
    if (s < 1 || s > max) throw new UsageError(`--${name} must be from 1 to ${max} seconds, got ${s}`);
    return s;
  };
  const ether = (name: string, fallback: bigint) => {
    const v = values[name];
    if (v === undefined) return fallback;
    let wei: bigint;
    try {
      wei = ethers.parseEther(String(v));
    } catch {
      throw new UsageError(`--${name} must be an amount of ether, got "${v}"`);
    }
    if (wei <= 0n) throw new UsageError(`--${name} must be more than 0 ETH, got "${v}"`);
    return wei;
  };
  return {
    claimBond: ether("claim-bond", DEFAULT_PARAMS.claimBond),
    challengeBond: ether("challenge-bond", DEFAULT_PARAMS.challengeBond),
    window: seconds("window", DEFAULT_PARAMS.window, Number.MAX_SAFE_INTEGER),
    clock: seconds("clock", DEFAULT_PARAMS.clock, 2 ** 32 - 1),
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
  usage: "mlvm deploy --rpc URL [--key KEY] [--deployments FILE] [--claim-bond ETH] [--challenge-bond ETH] [--window S] [--clock S] [--split-bits M] [--json]",
  options: {
    rpc: { type: "string", valueName: "URL", description: "the chain's JSON-RPC endpoint" },
    key: { type: "string", valueName: "KEY", description: "the deployer's private key (hex; default $MLVM_KEY)" },
    deployments: { type: "string", valueName: "FILE", description: "where to write the addresses (default deployments.json)" },
    ...PROTOCOL_OPTIONS,
    json: { type: "boolean", description: "print the deployments as JSON" },
  },
  details: [
    "Deploys ModelRegistry, OneStepVerifier and InferenceOracle (which creates its BisectionGame) and writes the",
    "deployments file: addresses, chain id, ABI version and the parameters (params.claimBond and",
    "params.challengeBond in wei, params.window and params.clock in seconds, params.splitBits: m, so that each",
    "round of a game reveals 2^m trace nodes and a trace of depth D takes ⌈D / m⌉ rounds). --json prints the same.",
    "Checked before any gas is spent: the deployments file can be written (its directory is created if need be),",
    "the bonds, the window and the clock are not zero, and the deployer holds the deployments' estimated gas at",
    "the current fee (else one line: its address, its balance and the need).",
  ].join("\n"),
  async run(_positionals, values, io) {
    const rpc = requiredString(values, "rpc");
    const key = (values.key as string | undefined) ?? process.env.MLVM_KEY;
    if (key === undefined) throw new UsageError("missing --key (or set MLVM_KEY): the deployer's private key");
    const params = protocolParams(values);
    const file = (values.deployments as string | undefined) ?? "deployments.json";
    checkDeploymentsWritable(file);
    const d = await deployTo(rpc, key, params);
    writeDeployments(file, d);
    if (values.json) return io.out(JSON.stringify(d));
    io.out(`deployed to chain ${d.chainId} (${d.rpc}), addresses in ${file}`);
    for (const [name, address] of Object.entries(d.contracts)) io.out(`  ${name.padEnd(16)} ${address}`);
    io.out(`  ${paramsText(d.params)}`);
  },
};
