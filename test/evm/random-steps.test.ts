/**
 * The random-step generator (test/helpers/random-steps.ts) covers the whole opcode table and draws the cases the
 * differential tests need, and a sample of every kind agrees between the TypeScript verifier and the EVM (the
 * 81,000-state replay is random-*.slow.test.ts; tampered witnesses are tamper.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Deployed } from "../../evm/inprocess.js";
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN } from "../../vm/fixed.js";
import { toHex } from "../../vm/hash.js";
import { LEAF_WORDS } from "../../vm/memory.js";
import { OPCODES, Opcode, type OpcodeInfo, UNARY_OPERANDS, isUnary, isWindowed, opcodeInfo } from "../../vm/opcodes.js";
import { type StepResult, step } from "../../vm/step.js";
import { decodeWindow } from "../../vm/window.js";
import { expectThrow } from "../helpers/expect.js";
import { NoStepGeneratorError, type RandomStep, STEP_KINDS, generatorFor, makeGenerator, randomStepWitnesses } from "../helpers/random-steps.js";
import { deployVerifier, evmVerdict, tsVerdict } from "./verifier.js";

let verifier: Deployed;
beforeAll(async () => {
  verifier = await deployVerifier();
});

const insnOf = (r: RandomStep) => r.program.instructions[r.state.pc];

/** The step of a random witness run over its reads (vm/step.ts), to see what it did. */
function replay(r: RandomStep): StepResult {
  let next = 0;
  const serve = () => r.witness.reads[next++].words;
  return step(r.state, insnOf(r), { readLeaf: serve, readChunk: serve });
}

/** The shape of a step's reads: "c" a chunk, "l" a leaf, in order ("ccl": two segment chunks, then a leaf). */
const readShape = (r: RandomStep) => r.witness.reads.map((x) => x.kind[0]).join("");

/** Geometry features of a windowed instruction's window. */
function windowFeatures(r: RandomStep): string[] {
  const w = decodeWindow(insnOf(r).args);
  const out: string[] = [];
  if (w.padTop > 0 || w.padLeft > 0) out.push("padding");
  if (w.strideH > 1 || w.strideW > 1) out.push("stride > 1");
  if (w.dilationH > 1 || w.dilationW > 1) out.push("dilation > 1");
  if (w.channels > 1) out.push("several channels");
  return out;
}

describe("the random-step generator", () => {
  it("has a generator for every opcode of the table, and a kind for each", () => {
    const missing = OPCODES.filter((o) => o.code !== Opcode.HALT).flatMap((o) => {
      try {
        generatorFor(o.code);
        return [];
      } catch (error) {
        if (error instanceof NoStepGeneratorError) return [o.name];
        throw error;
      }
    });
    expect(missing).toEqual([]);
    expect(STEP_KINDS.map((k) => k.name)).toEqual([...OPCODES.map((o) => o.name), "UNKNOWN", "HALTED"]);
  });

  it("refuses an opcode it has no generator for, instead of leaving it out", () => {
    const newOp = { code: 0x0e, name: "NEW_OP", operands: ["x", "y"], steps: () => 1 } as unknown as OpcodeInfo;
    expectThrow(() => makeGenerator(newOp), NoStepGeneratorError, "NEW_OP (x y) has no random-step generator");
    const newParam = { ...opcodeInfo(Opcode.ELU)!, operands: [...UNARY_OPERANDS, "beta"] };
    expectThrow(() => makeGenerator(newParam), NoStepGeneratorError, "ELU: no generator for the parameters (beta)");
    expectThrow(() => generatorFor(0xee), NoStepGeneratorError, "opcode 238 is not in the table");
  });

  it.each(OPCODES.filter((o) => isUnary(o.code)).map((o) => [o.name, o.code] as const))("%s: in place and src ≠ dst, partial leaves, formats, int32 ends", (_, code) => {
    const seen = new Set<string>();
    for (const r of randomStepWitnesses(code, 400, 1, { perTree: 4 })) {
      const [src, dst, n, fin, fout] = insnOf(r).args;
      seen.add(src === dst ? "in place" : "src ≠ dst");
      seen.add(`${r.witness.reads.length} reads`);
      if (n % LEAF_WORDS !== 0 && (r.state.i + 1) * LEAF_WORDS > n) seen.add("partial last leaf");
      if (fin !== fout) seen.add("fin ≠ fout");
      if (fin === 0 || fin === 24 || fout === 0 || fout === 24) seen.add("format at an end");
      if (r.witness.reads[0].words.some((w) => w === INT32_MIN || w === INT32_MAX)) seen.add("int32 end read");
    }
    expect([...seen].sort()).toEqual(["1 reads", "2 reads", "fin ≠ fout", "format at an end", "in place", "int32 end read", "partial last leaf", "src ≠ dst"]);
  });

  it("ADD: dst = a, dst = b, a = b, all three equal, all distinct", () => {
    const seen = new Set<string>();
    for (const r of randomStepWitnesses(Opcode.ADD, 400, 1, { perTree: 4 })) {
      const [a, b, dst, n] = insnOf(r).args;
      seen.add(a === b && b === dst ? "all equal" : dst === a ? "dst = a" : dst === b ? "dst = b" : a === b ? "a = b" : "distinct");
      seen.add(`${r.witness.reads.length} reads`);
      if (n % LEAF_WORDS !== 0 && (r.state.i + 1) * LEAF_WORDS > n) seen.add("partial last leaf");
    }
    expect([...seen].sort()).toEqual(["2 reads", "3 reads", "a = b", "all equal", "distinct", "dst = a", "dst = b", "partial last leaf"]);
  });

  it("LAYERNORM: every pass, in place and src ≠ dst, true and random registers", () => {
    const seen = new Set<string>();
    for (const r of randomStepWitnesses(Opcode.LAYERNORM, 400, 1, { perTree: 4 })) {
      const [src, dst] = insnOf(r).args;
      seen.add(`pass ${r.state.j}`);
      seen.add(`${r.witness.reads.length} reads`);
      if (r.state.j === 2) seen.add(src === dst ? "in place" : "src ≠ dst");
    }
    expect([...seen].sort()).toEqual(["1 reads", "3 reads", "4 reads", "in place", "pass 0", "pass 1", "pass 2", "src ≠ dst"]);
  });
});

describe("the random-step generator, convolution and pooling ops", () => {
  it("IM2COL: pieces reading no chunk (all padding), one chunk or two (straddling), each then its patch leaf; every geometry feature", () => {
    const seen = new Set<string>();
    for (const r of randomStepWitnesses(Opcode.IM2COL, 400, 1, { perTree: 4 })) {
      const result = replay(r);
      seen.add(`reads ${readShape(r)}`);
      for (const f of windowFeatures(r)) seen.add(f);
      if (result.state.pc === r.state.pc + 1) seen.add("last piece (next instruction)");
      else if (result.state.i === r.state.i + 1) seen.add("last piece of a position");
      else seen.add("a piece inside a patch");
      if (readShape(r) !== "l" && result.write!.words.some((v, k) => v === 0 && r.witness.reads.at(-1)!.words[k] !== 0)) seen.add("padding zeroes a word");
    }
    expect([...seen].sort()).toEqual(["a piece inside a patch", "dilation > 1", "last piece (next instruction)", "last piece of a position", "padding", "padding zeroes a word", "reads ccl", "reads cl", "reads l", "several channels", "stride > 1"]);
  });

  it("MATMUL: a one-chunk row (bias and output), row starts, mid-row chunks and row ends, int64 and int32 saturation", () => {
    const seen = new Set<string>();
    for (const r of randomStepWitnesses(Opcode.MATMUL, 400, 1, { perTree: 4 })) {
      const result = replay(r);
      seen.add(`reads ${readShape(r)}`);
      if (result.state.pc === r.state.pc + 1) seen.add("last output (next instruction)");
      if (result.state.acc === INT64_MAX || result.state.acc === INT64_MIN) seen.add("int64 saturation");
      if (result.write?.words.some((v) => v === INT32_MAX || v === INT32_MIN)) seen.add("an int32 end written");
      if (insnOf(r).args[5] > 1 && insnOf(r).args[4] > 1) seen.add("several channels and pixels");
    }
    expect([...seen].sort()).toEqual(["an int32 end written", "int64 saturation", "last output (next instruction)", "reads cc", "reads ccl", "reads ccll", "several channels and pixels"]);
  });

  it.each(OPCODES.filter((o) => isWindowed(o.code) && o.code !== Opcode.IM2COL).map((o) => [o.name, o.code] as const))(
    "%s: kernel rows of no chunk (all padding), one or two, mid-window and last rows (dst leaf), whole windows of padding",
    (_, code) => {
      const seen = new Set<string>();
      for (const r of randomStepWitnesses(code, 600, 1, { perTree: 4 })) {
        const result = replay(r);
        const shape = readShape(r);
        seen.add(`reads ${shape}`);
        for (const f of windowFeatures(r)) seen.add(f);
        if (result.write && result.state.pc === r.state.pc + 1) seen.add("last output (next instruction)");
        if (result.write && r.state.aux === 0 && !shape.includes("c")) seen.add("a window all padding");
        if (!result.write && r.state.j > 0) seen.add("a carried acc and count");
      }
      expect([...seen].sort()).toEqual(["a carried acc and count", "a window all padding", "dilation > 1", "last output (next instruction)", "padding", "reads ", "reads c", "reads cc", "reads ccl", "reads cl", "reads l", "several channels", "stride > 1"]);
    },
  );
});

describe("random states of every kind, TS witness → EVM post-state == TS post-state (a sample)", () => {
  it.each(STEP_KINDS.map((k) => [k.name, k.kind] as const))("%s: 40 random states", async (_, kind) => {
    for (const { preStateHash, witness } of randomStepWitnesses(kind, 40, 9)) {
      const honest = toHex(witness.postStateHash);
      expect({ step: witness.step, ts: tsVerdict(preStateHash, witness) }).toEqual({ step: witness.step, ts: honest });
      expect({ step: witness.step, evm: await evmVerdict(verifier, preStateHash, witness) }).toEqual({ step: witness.step, evm: honest });
    }
  }, 60_000);
});
