/**
 * The random-step generator (test/helpers/random-steps.ts) covers the whole opcode table and draws the cases the
 * differential tests need, and a sample of every kind agrees between the TypeScript verifier and the EVM (the
 * 81,000-state replay is random-*.slow.test.ts; tampered witnesses are tamper.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Deployed } from "../../evm/inprocess.js";
import { INT32_MAX, INT32_MIN } from "../../vm/fixed.js";
import { toHex } from "../../vm/hash.js";
import { LEAF_WORDS } from "../../vm/memory.js";
import { OPCODES, Opcode, type OpcodeInfo, UNARY_OPERANDS, isUnary, opcodeInfo } from "../../vm/opcodes.js";
import { expectThrow } from "../helpers/expect.js";
import { NoStepGeneratorError, type RandomStep, STEP_KINDS, generatorFor, makeGenerator, randomStepWitnesses } from "../helpers/random-steps.js";
import { deployVerifier, evmVerdict, tsVerdict } from "./verifier.js";

let verifier: Deployed;
beforeAll(async () => {
  verifier = await deployVerifier();
});

const insnOf = (r: RandomStep) => r.program.instructions[r.state.pc];

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

describe("random states of every kind, TS witness → EVM post-state == TS post-state (a sample)", () => {
  it.each(STEP_KINDS.map((k) => [k.name, k.kind] as const))("%s: 40 random states", async (_, kind) => {
    for (const { preStateHash, witness } of randomStepWitnesses(kind, 40, 9)) {
      const honest = toHex(witness.postStateHash);
      expect({ step: witness.step, ts: tsVerdict(preStateHash, witness) }).toEqual({ step: witness.step, ts: honest });
      expect({ step: witness.step, evm: await evmVerdict(verifier, preStateHash, witness) }).toEqual({ step: witness.step, evm: honest });
    }
  }, 60_000);
});
