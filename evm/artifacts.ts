/**
 * Reads the contract artifacts Hardhat writes to `artifacts/contracts/<path>/<File>.sol/<Name>.json`.
 * Tests and tools look contracts up by name; the tree is searched because contracts live in sub-folders
 * (contracts/vm/...) and callers should not have to know where.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { InterfaceAbi } from "ethers";
import { MlvmError } from "../vm/errors.js";

/** The fields of a Hardhat artifact that mlvm uses. */
export interface Artifact {
  contractName: string;
  sourceName: string;
  abi: InterfaceAbi;
  /** Creation code, 0x-prefixed; may hold `__$<hash>$__` library placeholders (see linkReferences). */
  bytecode: string;
  deployedBytecode: string;
  /** sourceName → library name → byte ranges of the placeholders in `bytecode`. */
  linkReferences: LinkReferences;
}

export type LinkReferences = Record<string, Record<string, { start: number; length: number }[]>>;

/** No artifact (or more than one) for a contract name: usually the contracts were not compiled. */
export class ArtifactMissingError extends MlvmError {}

/** The repository's artifacts folder (this file sits in <root>/evm/). */
export const DEFAULT_ARTIFACTS_DIR = fileURLToPath(new URL("../artifacts", import.meta.url));

/**
 * Loads the artifact of contract `name`. `name` is a contract name ("Probe") or, when two source files
 * declare contracts of the same name, a qualified name whose source part is a path suffix
 * ("vm/Memory.sol:Memory").
 */
export function loadArtifact(name: string, artifactsDir: string = DEFAULT_ARTIFACTS_DIR): Artifact {
  const colon = name.lastIndexOf(":");
  const contract = colon < 0 ? name : name.slice(colon + 1);
  const source = colon < 0 ? undefined : name.slice(0, colon);
  const root = join(artifactsDir, "contracts");
  const hint = "run `HARDHAT_DISABLE_TELEMETRY_PROMPT=true npx hardhat compile` first";

  // Hardhat's own fully qualified name: the source path from the project root ("contracts/vm/Memory.sol").
  const sourceOf = (file: string) => ["contracts", ...relative(root, file).split(sep).slice(0, -1)].join("/");
  let found = findFiles(root, `${contract}.json`);
  if (source !== undefined) {
    found = found.filter((f) => sourceOf(f) === source || sourceOf(f).endsWith("/" + source));
  }
  if (found.length === 0) {
    throw new ArtifactMissingError(`no compiled artifact for contract ${name} under ${root}: ${hint}`);
  }
  if (found.length > 1) {
    const names = found.map((f) => `${sourceOf(f)}:${contract}`);
    throw new ArtifactMissingError(`contract name ${name} is ambiguous, use one of: ${names.join(", ")}`);
  }
  const json = JSON.parse(readFileSync(found[0]!, "utf8")) as Partial<Artifact>;
  if (typeof json.bytecode !== "string" || !Array.isArray(json.abi)) {
    throw new ArtifactMissingError(`${found[0]} is not a Hardhat contract artifact: ${hint}`);
  }
  return {
    contractName: json.contractName ?? contract,
    sourceName: json.sourceName ?? "",
    abi: json.abi,
    bytecode: json.bytecode,
    deployedBytecode: json.deployedBytecode ?? "0x",
    linkReferences: json.linkReferences ?? {},
  };
}

/** Every file called `fileName` below `dir` (missing dir → none). `.dbg.json` files never match. */
function findFiles(dir: string, fileName: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(path, fileName));
    else if (e.name === fileName) out.push(path);
  }
  return out;
}
