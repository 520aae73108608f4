/**
 * `mlvm demo --model lenet5`: a LeNet-5 inference disputed on a local Hardhat node by the daemons, the lie placed
 * inside the second convolution (its MATMUL, the conv's multiply-accumulates). The dissection must narrow the
 * dispute to the one lying step, the one-step proof must be of a MATMUL step of that conv, won by the challenger,
 * and the consumer must receive LeNet's digits as the VM computes them.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import type { DemoSummary } from "../../demo/scenario.js";
import { decodeOutput } from "../../interpreter/run.js";
import { WasmMachine } from "../../interpreter/wasm/machine.js";
import { Opcode } from "../../vm/opcodes.js";
import { instructionStarts } from "../../vm/program.js";
import { lenet5, mnistInput } from "../helpers/models.js";

describe("mlvm demo --model lenet5", () => {
  it("a lie inside a convolution is caught and won by a one-step proof of that convolution's step", async () => {
    const model = lenet5();
    const starts = instructionStarts(model.program);
    const matmuls = model.program.instructions.flatMap((insn, pc) => (insn.opcode === Opcode.MATMUL ? [pc] : []));
    expect(matmuls.length).toBeGreaterThanOrEqual(2); // conv1 and conv2
    const pc = matmuls[1];
    // The first wrong state is the one the 1,235th step of conv2's MATMUL makes (mid-row, mid-instruction).
    const lieAtStep = starts[pc] + 1235;
    expect(lieAtStep).toBeLessThan(starts[pc + 1]);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["demo", "--model", "lenet5", "--json", "--lie-at-step", String(lieAtStep), "--digits", "5,6"], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const s = JSON.parse(out.join("\n")) as DemoSummary;
    expect(s.model).toBe("lenet5");
    expect(s.lieAtStep).toBe(lieAtStep);
    expect(s.lieInstruction).toMatch(new RegExp(`^instruction ${pc}, MATMUL \\(conv 5×5 6×14×14→16×10×10`));
    const prove = s.moves.at(-1)!;
    expect(prove).toMatchObject({ move: "prove", step: lieAtStep, defenderWon: false, by: "challenger" });
    expect(prove.instruction).toBe(s.lieInstruction);
    expect(prove.gas).toBeLessThan(400_000);
    const chooses = s.moves.filter((m) => m.move === "choose");
    expect(chooses.at(-1)!.next).toEqual([lieAtStep, lieAtStep]);
    const traceDepth = Math.ceil(Math.log2(model.meta.steps + 1));
    expect(s.rounds).toBe(Math.ceil(traceDepth / s.splitBits));
    expect(s.settlement.winners).toBe(1);
    const machine = new WasmMachine(model);
    expect(s.results.map((r) => r.digit)).toEqual([5, 6]);
    for (const r of s.results) expect(r.delivered).toBe(decodeOutput(model.program, machine.run(mnistInput(r.digit, model))).prediction);
  }, 180_000);
});
