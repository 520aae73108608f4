import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { opcodesSolidity } from "../vm/opcodes-sol.js";

describe("contracts/vm/Opcodes.sol", () => {
  it("is generated from vm/opcodes.ts and current (run npx tsx scripts/gen-opcodes-sol.ts)", () => {
    expect(readFileSync(new URL("../contracts/vm/Opcodes.sol", import.meta.url), "utf8")).toBe(opcodesSolidity());
  });
});
