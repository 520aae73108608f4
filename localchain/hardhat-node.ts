/**
 * Hardhat's development chain (`hardhat node`, Hardhat 2.29, EDR): the command line that starts it on one port of
 * 127.0.0.1. Its bin script is spawned directly, not through npx, so that the child is the chain and stopping the
 * child stops the chain. The process itself (start, wait, stop) is local-node.ts's, for both engines.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** How to start one engine's chain: the executable, its arguments and extra environment. */
export interface ChainCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** `hardhat node` on 127.0.0.1:`port` (chain id 31337, 20 funded accounts of the test mnemonic, 60M block gas). */
export function hardhatCommand(port: number): ChainCommand {
  return {
    file: join(ROOT, "node_modules", ".bin", "hardhat"),
    args: ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    env: { HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
  };
}

