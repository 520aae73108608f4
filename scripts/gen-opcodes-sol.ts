// Writes contracts/vm/Opcodes.sol from vm/opcodes.ts, the one declaration of the opcode table.
// Run: npx tsx scripts/gen-opcodes-sol.ts   (test/opcodes-sol.test.ts fails when the file is stale)
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { opcodesSolidity } from "../vm/opcodes-sol.js";

writeFileSync(fileURLToPath(new URL("../contracts/vm/Opcodes.sol", import.meta.url)), opcodesSolidity());
console.log("wrote contracts/vm/Opcodes.sol");
