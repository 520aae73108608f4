/**
 * Tampered witnesses of the elementwise ops, ADD and LAYERNORM, whose reads depend on aliasing (the destination's leaf is read
 * unless it is a source's): a wrong word in the destination's read, the destination's read missing or duplicated,
 * the reads swapped or reversed, a read's proof shortened … For each, the EVM must give the verdict vm/onestep.ts
 * gives (the same post-state hash, or a rejection: a WitnessError there, a Witness… custom error here), and that
 * verdict is the honest hash or a rejection, never another hash.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Deployed } from "../../evm/inprocess.js";
import { toHex } from "../../vm/hash.js";
import { LEAF_WORDS } from "../../vm/memory.js";
import { OPCODES, Opcode, isUnary } from "../../vm/opcodes.js";
import type { StepWitness } from "../../vm/witness.js";
import { randomStepWitnesses } from "../helpers/random-steps.js";
import { deployVerifier, evmVerdict, tsVerdict } from "./verifier.js";

let verifier: Deployed;
beforeAll(async () => {
  verifier = await deployVerifier();
});

const ELEMENTWISE = OPCODES.filter((o) => isUnary(o.code) || o.code === Opcode.ADD || o.code === Opcode.LAYERNORM);

/** Alterations of an elementwise step's reads; the destination's read is the last one unless the step is in place. */
function tampers(w: StepWitness): [string, (x: StepWitness) => void][] {
  const last = w.reads.length - 1;
  const list: [string, (x: StepWitness) => void][] = [
    ["a wrong word (0) in the last read", (x) => (x.reads[last].words[0] += 1)],
    ["a wrong word (7) in the last read", (x) => (x.reads[last].words[7] ^= 1 << 31)],
    ["the last read missing", (x) => x.reads.pop()],
    ["the last read duplicated", (x) => x.reads.push(structuredClone(x.reads[last]))],
    ["the first read duplicated", (x) => x.reads.splice(1, 0, structuredClone(x.reads[0]))],
    ["the last read at the next leaf", (x) => (x.reads[last].address += LEAF_WORDS)],
    ["the last read's proof shortened", (x) => x.reads[last].proof.pop()],
  ];
  if (w.reads.length > 1) {
    list.push(["the first two reads swapped", (x) => ([x.reads[0], x.reads[1]] = [x.reads[1], x.reads[0]])]);
    list.push(["the reads reversed", (x) => x.reads.reverse()]);
    list.push(["the last read with the first one's words and proof", (x) => ((x.reads[last].words = x.reads[0].words.slice()), (x.reads[last].proof = x.reads[0].proof.slice()))]);
    list.push(["only the last read", (x) => x.reads.splice(0, last)]);
  }
  return list;
}

describe("tampered elementwise witnesses: the EVM and vm/onestep.ts give the same verdict, never a wrong hash", () => {
  it.each(ELEMENTWISE.map((o) => [o.name, o.code] as const))("%s", async (_, code) => {
    const verdicts = new Map<string, number>();
    // 16 witnesses of both shapes: the destination read separately (2 reads; ADD: 3; LAYERNORM: 4) and in place or
    // reading no destination (1; ADD: 2; LAYERNORM: 1 or 3)
    const all = randomStepWitnesses(code, 200, 3, { perTree: 2 });
    const most = Math.max(...all.map((r) => r.witness.reads.length));
    const picked = [...all.filter((r) => r.witness.reads.length === most).slice(0, 10), ...all.filter((r) => r.witness.reads.length < most).slice(0, 6)];
    expect(new Set(picked.map((r) => r.witness.reads.length)).size).toBeGreaterThanOrEqual(2);
    for (const { preStateHash, witness } of picked) {
      const honest = toHex(witness.postStateHash);
      for (const [what, tamper] of tampers(witness)) {
        const w = structuredClone(witness);
        tamper(w);
        const ts = tsVerdict(preStateHash, w);
        const evm = await evmVerdict(verifier, preStateHash, w);
        expect({ what, evm }).toEqual({ what, evm: ts });
        expect({ what, honestOrRejected: ts === honest || ts === "rejected" }).toEqual({ what, honestOrRejected: true });
        verdicts.set(ts === honest ? "honest" : "rejected", (verdicts.get(ts === honest ? "honest" : "rejected") ?? 0) + 1);
      }
    }
    expect(verdicts.get("rejected")).toBeGreaterThan(50);
  }, 60_000);
});
