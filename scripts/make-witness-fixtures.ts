// Regenerates fixtures/witnesses/*.json (see test/helpers/witness-fixtures.ts). Run: npx tsx scripts/make-witness-fixtures.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { makeWitnessFixtures } from "../test/helpers/witness-fixtures.js";

const dir = fileURLToPath(new URL("../fixtures/witnesses/", import.meta.url));
for (const fixture of makeWitnessFixtures()) {
  writeFileSync(`${dir}${fixture.name}.json`, JSON.stringify(fixture, null, 2) + "\n");
  console.log(`wrote fixtures/witnesses/${fixture.name}.json`);
}
