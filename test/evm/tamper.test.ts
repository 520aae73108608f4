/**
 * Tampered witnesses of the elementwise ops, ADD and LAYERNORM (and, below, of the convolution and pooling ops), whose reads depend on aliasing (the destination's leaf is read
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
import { type RandomStep, randomStepWitnesses } from "../helpers/random-steps.js";
import { step } from "../../vm/step.js";
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

/**
 * Tampered witnesses of the convolution and pooling ops, whose reads are a window row's segment (one or two chunks,
 * or none when the row is padding), then IM2COL's patch leaf or a pooling's destination leaf (its last kernel row);
 * MATMUL's are DENSE's (weight chunk, patch chunk, bias leaf, output leaf). Each alteration must be rejected by both
 * verifiers: a changed word of any read (a segment chunk, a patch, weight or bias read, the leaf written), a missing
 * second segment chunk, the first chunk given twice, a spurious extra chunk, a chunk or leaf at the wrong address,
 * the leaf written forged, or given with the words the step writes (as if already written).
 */
const WINDOW_OPS = OPCODES.filter((o) => o.code >= Opcode.IM2COL && o.code <= Opcode.AVGPOOL_VALID);

/** The words an honest witness's step writes (its reads served in order), or undefined when it writes none. */
function writtenLeaf(r: RandomStep): Int32Array | undefined {
  let next = 0;
  const serve = () => r.witness.reads[next++].words;
  return step(r.state, r.program.instructions[r.state.pc], { readLeaf: serve, readChunk: serve }).write?.words;
}

function windowTampers(r: RandomStep): [string, (x: StepWitness) => void][] {
  const w = r.witness;
  const list: [string, (x: StepWitness) => void][] = [];
  w.reads.forEach((r, k) => {
    const what = `read ${k} (${r.kind})`;
    list.push([`${what}: word 0 changed`, (x) => (x.reads[k].words[0] += 1)]);
    list.push([`${what}: its last word changed`, (x) => (x.reads[k].words[r.words.length - 1] ^= 1 << 31)]);
    list.push([`${what}: at the next ${r.kind}`, (x) => (x.reads[k].address += r.words.length)]);
    if (r.address >= r.words.length) list.push([`${what}: at the previous ${r.kind}`, (x) => (x.reads[k].address -= r.words.length)]);
    list.push([`${what}: dropped`, (x) => x.reads.splice(k, 1)]);
  });
  const chunks = w.reads.filter((r) => r.kind === "chunk").length;
  if (w.reads[0]?.kind === "chunk") {
    list.push(["the first chunk given twice", (x) => x.reads.splice(1, 0, structuredClone(x.reads[0]))]);
    if (w.reads[1]?.kind === "chunk") list.push(["the second chunk replaced by the first", (x) => (x.reads[1] = structuredClone(x.reads[0]))]);
  }
  if (chunks === 1 && w.reads[0].kind === "chunk") {
    list.push(["a spurious second chunk (the next one, the first's words)", (x) => x.reads.splice(1, 0, { ...structuredClone(x.reads[0]), address: x.reads[0].address + 32 })]);
  }
  const last = w.reads.length - 1;
  if (last >= 0 && w.reads[last].kind === "leaf") {
    list.push(["the leaf written forged: every word changed", (x) => x.reads[last].words.forEach((v, t, a) => (a[t] = ~v))]);
    const written = writtenLeaf(r);
    if (written && written.some((v, t) => v !== w.reads[last].words[t])) {
      list.push(["the leaf written given with the words the step writes", (x) => (x.reads[last].words = written.slice())]);
    }
  }
  return list;
}

describe("tampered convolution and pooling witnesses: both verifiers reject every one", () => {
  it.each(WINDOW_OPS.map((o) => [o.name, o.code] as const))("%s", async (_, code) => {
    const all = randomStepWitnesses(code, 300, 5, { perTree: 2 });
    // a few of each shape of reads: no chunk, one chunk, two chunks (straddling), with and without a leaf
    const byShape = new Map<string, typeof all>();
    for (const r of all) {
      const shape = r.witness.reads.map((x) => x.kind[0]).join("");
      byShape.set(shape, [...(byShape.get(shape) ?? []), r]);
    }
    const picked = [...byShape.values()].flatMap((rs) => rs.slice(0, 4));
    const shapes = [...byShape.keys()].sort();
    expect(shapes).toEqual(
      code === Opcode.IM2COL ? ["ccl", "cl", "l"] : code === Opcode.MATMUL ? ["cc", "ccl", "ccll"] : ["", "c", "cc", "ccl", "cl", "l"],
    );
    let rejected = 0;
    for (const r of picked) {
      const { preStateHash, witness } = r;
      for (const [what, tamper] of windowTampers(r)) {
        const w = structuredClone(witness);
        tamper(w);
        const ts = tsVerdict(preStateHash, w);
        const evm = await evmVerdict(verifier, preStateHash, w);
        expect({ what, ts, evm }).toEqual({ what, ts: "rejected", evm: "rejected" });
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(60);
  }, 120_000);
});
