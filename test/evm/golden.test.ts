/**
 * The golden witness fixtures (fixtures/witnesses/, shared with the TypeScript tests) replayed in the EVM, and
 * tampered: for each fixture, every field in turn is altered; the Solidity verifier must revert (with a custom
 * error) or return the honest hash, never another — the same property vm/onestep.test.ts checks of the
 * TypeScript verifier.
 */
import { readFileSync, readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type Deployed, EvmRevertError } from "../../evm/inprocess.js";
import { fromHex } from "../../vm/hash.js";
import { type StepWitness, witnessFromJson } from "../../vm/witness.js";
import { fixturePath } from "../helpers/models.js";
import type { WitnessFixture } from "../helpers/witness-fixtures.js";
import { deployVerifier, evmPostState } from "./verifier.js";

const dir = fixturePath("witnesses");
const fixtures = readdirSync(dir).map((f) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8")) as WitnessFixture);
let verifier: Deployed;
beforeAll(async () => {
  verifier = await deployVerifier();
});

const flip = (bytes: Uint8Array, at: number) => (bytes[at % bytes.length] ^= 0x01);

/** Alterations that survive the ABI encoding (a bytes32 cannot be truncated, words travel as whole leaves). */
function tampers(w: StepWitness): [string, (x: StepWitness) => void][] {
  const list: [string, (x: StepWitness) => void][] = [];
  for (const at of [0, 31, 32, 63, 64, 71, 75, 79, 83, 84, 91, 95, 96]) list.push([`pre-state byte ${at}`, (x) => flip(x.preState, at)]);
  list.push(["pre-state truncated", (x) => (x.preState = x.preState.slice(0, 96))]);
  list.push(["pre-state extended", (x) => (x.preState = Uint8Array.from([...x.preState, 0]))]);
  if (w.instruction.length) {
    for (const at of [0, 3, 4, 8, 12, 16, 20, 24, 31]) list.push([`instruction byte ${at}`, (x) => flip(x.instruction, at)]);
    w.instructionProof.forEach((_, k) => list.push([`instruction proof sibling ${k}`, (x) => flip(x.instructionProof[k], 9)]));
    list.push(["instruction proof shortened", (x) => x.instructionProof.pop()]);
    list.push(["instruction proof extended", (x) => x.instructionProof.push(new Uint8Array(32))]);
  }
  w.reads.forEach((r, k) => {
    list.push([`read ${k} a word`, (x) => (x.reads[k].words[3] += 1)]);
    list.push([`read ${k} last word`, (x) => (x.reads[k].words[r.words.length - 1] ^= 1 << 30)]);
    list.push([`read ${k} address + 1 leaf`, (x) => (x.reads[k].address += 8)]);
    list.push([`read ${k} address + 1 chunk`, (x) => (x.reads[k].address += 32)]);
    list.push([`read ${k} kind`, (x) => (x.reads[k].kind = r.kind === "leaf" ? "chunk" : "leaf")]);
    list.push([`read ${k} one leaf fewer`, (x) => (x.reads[k].words = x.reads[k].words.slice(0, -8))]);
    list.push([`read ${k} one leaf more`, (x) => (x.reads[k].words = Int32Array.from([...x.reads[k].words, ...new Array(8).fill(0)]))]);
    list.push([`read ${k} proof shortened`, (x) => x.reads[k].proof.pop()]);
    list.push([`read ${k} proof lengthened`, (x) => x.reads[k].proof.push(new Uint8Array(32))]);
    r.proof.forEach((_, s) => list.push([`read ${k} proof sibling ${s}`, (x) => flip(x.reads[k].proof[s], s + 1)]));
    list.push([`read ${k} dropped`, (x) => x.reads.splice(k, 1)]);
    list.push([`read ${k} duplicated`, (x) => x.reads.splice(k, 0, structuredClone(x.reads[k]))]);
  });
  if (w.reads.length > 1) list.push(["reads reversed", (x) => x.reads.reverse()]);
  list.push(["a read added", (x) => x.reads.push({ kind: "leaf", address: 0, words: new Int32Array(8), proof: [] })]);
  return list;
}

describe("golden witnesses in the EVM", () => {
  it.each(fixtures.map((f) => [f.name, f] as const))("%s: the EVM returns the post-state hash", async (_, f) => {
    expect(await evmPostState(verifier, fromHex(f.preStateHash), witnessFromJson(f.witness))).toBe(f.postStateHash);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s: tampered, the EVM reverts or returns the honest hash", async (_, f) => {
    const honest = witnessFromJson(f.witness);
    const pre = fromHex(f.preStateHash);
    const reverts: string[] = [];
    for (const [what, tamper] of tampers(honest)) {
      const w = structuredClone(honest);
      tamper(w);
      try {
        expect({ what, post: await evmPostState(verifier, pre, w) }).toEqual({ what, post: f.postStateHash });
      } catch (error) {
        if (!(error instanceof EvmRevertError)) throw error;
        expect({ what, customError: error.errorName?.startsWith("Witness") }).toEqual({ what, customError: true });
        reverts.push(error.errorName!);
      }
    }
    expect(reverts.length).toBeGreaterThan(10);
  });

  it("a wrong pre-state hash reverts with WitnessPreStateMismatch", async () => {
    const f = fixtures[0];
    const pre = fromHex(f.preStateHash);
    pre[31] ^= 1;
    await expect(evmPostState(verifier, pre, witnessFromJson(f.witness))).rejects.toMatchObject({ errorName: "WitnessPreStateMismatch" });
  });
});
