/**
 * Saying where a run saturated. A value outside its tensor's format (vm/fixed.ts) is clamped: that is the VM's
 * defined result, so a claim over such a run is still correct and a challenger cannot win against it; but the
 * output may not be what the float model computes, so every command that runs a model says so, by instruction
 * and the layer it came from, and how to avoid it.
 */
import { type ModelMeta, describeInstruction, describeSaturations } from "../compiler/compile.js";
import type { Saturation } from "../interpreter/run.js";

/** Tallies saturations over many runs: per instruction, values clamped and runs in which it clamped. */
export class SaturationTally {
  runs = 0;
  saturatedRuns = 0;
  private readonly byPc = new Map<number, { values: number; runs: number }>();

  add(saturations: readonly Saturation[]): void {
    this.runs++;
    if (saturations.length === 0) return;
    this.saturatedRuns++;
    for (const { pc, count } of saturations) {
      const at = this.byPc.get(pc) ?? { values: 0, runs: 0 };
      this.byPc.set(pc, { values: at.values + count, runs: at.runs + 1 });
    }
  }

  /** Per instruction, in pc order. */
  entries(): { pc: number; values: number; runs: number }[] {
    return [...this.byPc].sort(([a], [b]) => a - b).map(([pc, s]) => ({ pc, ...s }));
  }

  /** One line: "saturated runs: 0 of 50", or which instructions clamped how much, and what to do about it. */
  line(meta: ModelMeta): string {
    if (this.saturatedRuns === 0) return `saturated runs: 0 of ${this.runs}`;
    const where = this.entries().map((e) => `${describeInstruction(meta, e.pc)}: ${e.values} values in ${e.runs} runs`).join("; ");
    return `saturated runs: ${this.saturatedRuns} of ${this.runs}, values clamped to their format's range at ${where}${ADVICE}`;
  }
}

const ADVICE = " (outputs may differ from the float model: recompile with --calibrate inputs that reach these values)";

/** One run's warning line, or null when nothing saturated. */
export function saturationWarning(meta: ModelMeta, saturations: readonly Saturation[]): string | null {
  if (saturations.length === 0) return null;
  return `saturated: values clamped to their format's range at ${describeSaturations(meta, saturations)}${ADVICE}`;
}
