/** The golden witness fixtures: the TypeScript verifier accepts each, and regenerating them changes nothing. */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../vm/hash.js";
import { verifyStep } from "../vm/onestep.js";
import { OPCODES, opcodeInfo } from "../vm/opcodes.js";
import { witnessFromJson } from "../vm/witness.js";
import { fixturePath } from "./helpers/models.js";
import { type WitnessFixture, makeWitnessFixtures } from "./helpers/witness-fixtures.js";

const dir = fixturePath("witnesses");
const stored = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8")) as WitnessFixture);

describe("golden witness fixtures", () => {
  it("there are fixtures of every step kind: every opcode of the table, and the halted state", () => {
    expect(stored.map((f) => f.name).sort()).toEqual(makeWitnessFixtures().map((f) => f.name).sort());
    // the instruction's first byte is its opcode; a halted pre-state carries no instruction
    const kinds = new Set(stored.map((f) => (f.witness.instruction === "0x" ? "halted" : opcodeInfo(parseInt(f.witness.instruction.slice(2, 4), 16))?.name)));
    expect([...kinds].sort()).toEqual([...OPCODES.map((o) => o.name), "halted"].sort());
  });

  it.each(stored.map((f) => [f.name, f] as const))("%s verifies to its post-state hash", (_, f) => {
    expect(toHex(verifyStep(fromHex(f.preStateHash), witnessFromJson(f.witness)))).toBe(f.postStateHash);
  });

  it("regenerating them from the models gives the same bytes", () => {
    const fresh = new Map(makeWitnessFixtures().map((f) => [f.name, f]));
    for (const f of stored) expect(fresh.get(f.name)).toEqual(f);
  });
});
