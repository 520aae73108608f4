/**
 * The one-step budget: every opcode's most expensive step (bench/gas.ts benchOpcodeGas: the worst case of each, at
 * memory depth 15, as a whole transaction) costs at most 150,000 gas, the bound issue 13 sets for every step kind.
 */
import { describe, expect, it } from "vitest";
import { OPCODE_BENCH_DEPTH, benchOpcodeGas } from "../../bench/gas.js";
import { OPCODES } from "../../vm/opcodes.js";

const BUDGET = 150_000;

describe(`one-step gas, worst case of each opcode at memory depth ${OPCODE_BENCH_DEPTH}`, () => {
  it(`every opcode's worst step is a transaction of at most ${BUDGET.toLocaleString("en-US")} gas`, async () => {
    const rows = await benchOpcodeGas();
    expect(rows.map((r) => r.opcode)).toEqual(OPCODES.map((o) => o.name));
    const over = rows.filter((r) => r.gas > BUDGET).map((r) => `${r.opcode} ${r.gas}`);
    expect(over).toEqual([]);
    // the windowed ops' worst cases read what they claim: two segment chunks, then the leaf written
    for (const name of ["IM2COL", "MAXPOOL", "AVGPOOL", "AVGPOOL_VALID"]) expect({ name, reads: rows.find((r) => r.opcode === name)!.reads }).toEqual({ name, reads: 3 });
    expect(rows.find((r) => r.opcode === "MATMUL")!.reads).toBe(4);
  });
});
