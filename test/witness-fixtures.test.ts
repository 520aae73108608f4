/** The golden witness fixtures: the TypeScript verifier accepts each, and regenerating them changes nothing. */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../vm/hash.js";
import { verifyStep } from "../vm/onestep.js";
import { witnessFromJson } from "../vm/witness.js";
import { fixturePath } from "./helpers/models.js";
import { type WitnessFixture, makeWitnessFixtures } from "./helpers/witness-fixtures.js";

const dir = fixturePath("witnesses");
const stored = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8")) as WitnessFixture);

describe("golden witness fixtures", () => {
  it("there are fixtures of every step kind", () => {
    expect(stored.map((f) => f.name).sort()).toEqual(makeWitnessFixtures().map((f) => f.name).sort());
    expect(stored.length).toBeGreaterThanOrEqual(12);
  });

  it.each(stored.map((f) => [f.name, f] as const))("%s verifies to its post-state hash", (_, f) => {
    expect(toHex(verifyStep(fromHex(f.preStateHash), witnessFromJson(f.witness)))).toBe(f.postStateHash);
  });

  it("regenerating them from the models gives the same bytes", () => {
    const fresh = new Map(makeWitnessFixtures().map((f) => [f.name, f]));
    for (const f of stored) expect(fresh.get(f.name)).toEqual(f);
  });
});
