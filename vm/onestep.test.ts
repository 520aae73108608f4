/**
 * The one-step verifier on tampered witnesses: each field of real witnesses (the golden fixtures) is altered in
 * turn; the verifier must reject the witness (WitnessError) or return the honest post-state hash — never another.
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../test/helpers/models.js";
import type { WitnessFixture } from "../test/helpers/witness-fixtures.js";
import { fromHex, toHex } from "./hash.js";
import { verifyStep } from "./onestep.js";
import { type StepWitness, WitnessError, witnessFromJson } from "./witness.js";

const dir = fixturePath("witnesses");
const fixtures = readdirSync(dir).map((f) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8")) as WitnessFixture);

type Tamper = [string, (w: StepWitness) => void];
const flip = (bytes: Uint8Array, at: number) => (bytes[at % bytes.length] ^= 0x01);

/** Every way of altering a witness we try; each applies to a fresh copy. */
function tampers(w: StepWitness): Tamper[] {
  const list: Tamper[] = [];
  for (const at of [0, 31, 32, 63, 64, 71, 72, 75, 76, 80, 84, 91, 92, 96]) list.push([`pre-state byte ${at}`, (x) => flip(x.preState, at)]);
  list.push(["pre-state truncated", (x) => (x.preState = x.preState.slice(0, 96))]);
  if (w.instruction.length) {
    for (const at of [0, 1, 4, 7, 11, 27, 31]) list.push([`instruction byte ${at}`, (x) => flip(x.instruction, at)]);
    list.push(["instruction truncated", (x) => (x.instruction = x.instruction.slice(0, 31))]);
    w.instructionProof.forEach((_, k) => list.push([`instruction proof sibling ${k}`, (x) => flip(x.instructionProof[k], 5)]));
    list.push(["instruction proof extended", (x) => x.instructionProof.push(new Uint8Array(32))]);
  }
  w.reads.forEach((r, k) => {
    list.push([`read ${k} first word`, (x) => (x.reads[k].words[0] += 1)]);
    list.push([`read ${k} last word`, (x) => (x.reads[k].words[r.words.length - 1] ^= 1 << 30)]);
    list.push([`read ${k} address`, (x) => (x.reads[k].address += r.kind === "leaf" ? 8 : 32)]);
    list.push([`read ${k} kind`, (x) => (x.reads[k].kind = r.kind === "leaf" ? "chunk" : "leaf")]);
    list.push([`read ${k} words truncated`, (x) => (x.reads[k].words = x.reads[k].words.slice(0, -1))]);
    list.push([`read ${k} proof shortened`, (x) => x.reads[k].proof.pop()]);
    list.push([`read ${k} proof lengthened`, (x) => x.reads[k].proof.push(new Uint8Array(32))]);
    r.proof.forEach((_, s) => list.push([`read ${k} proof sibling ${s}`, (x) => flip(x.reads[k].proof[s], s)]));
    list.push([`read ${k} dropped`, (x) => x.reads.splice(k, 1)]);
    list.push([`read ${k} duplicated`, (x) => x.reads.splice(k, 0, structuredClone(x.reads[k]))]);
  });
  list.push(["a read added", (x) => x.reads.push(structuredClone(w.reads[0] ?? { kind: "leaf", address: 0, words: new Int32Array(8), proof: [] }))]);
  if (w.reads.length > 1) list.push(["reads swapped", (x) => x.reads.reverse()]);
  return list;
}

describe("the one-step verifier rejects every tampered witness, or returns the honest hash", () => {
  it.each(fixtures.map((f) => [f.name, f] as const))("%s", (_, f) => {
    const honest = witnessFromJson(f.witness);
    const pre = fromHex(f.preStateHash);
    expect(toHex(verifyStep(pre, honest))).toBe(f.postStateHash);
    let rejected = 0;
    for (const [what, tamper] of tampers(honest)) {
      const w = structuredClone(honest);
      tamper(w);
      try {
        const post = toHex(verifyStep(pre, w));
        expect({ what, post }).toEqual({ what, post: f.postStateHash });
      } catch (error) {
        if (!(error instanceof WitnessError)) throw new Error(`${what}: ${String(error)}`);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it("rejects a wrong pre-state hash", () => {
    const f = fixtures[0];
    const pre = fromHex(f.preStateHash);
    pre[0] ^= 1;
    expect(() => verifyStep(pre, witnessFromJson(f.witness))).toThrow(/does not hash to the pre-state/);
  });
});
