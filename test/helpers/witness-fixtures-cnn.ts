/**
 * The golden witness fixtures of the convolution and pooling ops (fixtures/witnesses/cnn-*.json): steps of the small
 * CNN programs of test/evm/traces-ops-cnn.ts (CNN_SHAPES), each the first step of its run that has the named shape
 * (an IM2COL piece straddling two chunks, one all padding, a MATMUL row of one chunk and of two, a pooling's mid and
 * last kernel rows, a kernel row of padding …), with the state hashes it proves between. Part of the fixtures
 * test/helpers/witness-fixtures.ts makes (scripts/make-witness-fixtures.ts writes them); the EVM replays and
 * tampers every one (test/evm/golden.test.ts).
 */
import { MemoryTree } from "../../interpreter/witness-reference.js";
import { toHex } from "../../vm/hash.js";
import { Opcode, opcodeInfo } from "../../vm/opcodes.js";
import { INITIAL_STATE, type State } from "../../vm/state.js";
import { type StepWitness, witnessToJson } from "../../vm/witness.js";
import { CNN_SHAPES, cnnProgram } from "../evm/traces-ops-cnn.js";
import type { WitnessFixture } from "./witness-fixtures.js";

/** A step of a run, as the predicates below see it. */
interface RunStep {
  state: State;
  next: State;
  opcode: number;
  /** "c" a chunk read, "l" a leaf read, in order. */
  reads: string;
  witness: StepWitness;
}

type Wanted = [name: string, description: string, matches: (s: RunStep) => boolean];

const is = (opcode: number) => (s: RunStep) => s.opcode === opcode;
const moves = (s: RunStep) => s.next.pc !== s.state.pc;

/** Per CNN_SHAPES entry (by index), the fixtures taken from its run. */
const WANTED: Record<number, Wanted[]> = {
  0: [
    ["im2col-first", "IM2COL's first piece: output (0, 0), kernel row 0 all padding (pad 1): no segment read, the patch leaf written with zeros", (s) => s.state.step === 0],
    ["im2col-inside", "an IM2COL piece inside the image: one segment chunk, then the patch leaf", (s) => is(Opcode.IM2COL)(s) && s.reads === "cl"],
    ["im2col-straddle", "an IM2COL piece whose segment straddles two chunks: both chunks, then the patch leaf", (s) => is(Opcode.IM2COL)(s) && s.reads === "ccl"],
    ["im2col-last", "IM2COL's last piece: moves on to the next instruction", (s) => is(Opcode.IM2COL)(s) && moves(s)],
    ["matmul-row", "a MATMUL row of one chunk: weights, patch, bias and output read; stores output word oc·pixels + p", (s) => is(Opcode.MATMUL)(s) && s.reads === "ccll"],
    ["maxpool-row", "MAXPOOL's first kernel row: the segment read, the largest word carried in acc and the count in aux", (s) => is(Opcode.MAXPOOL)(s) && !moves(s) && s.next.j === 1],
    ["maxpool-last-row", "MAXPOOL's last kernel row: stores the largest word", (s) => is(Opcode.MAXPOOL)(s) && s.reads.endsWith("l") && s.state.j > 0],
  ],
  1: [
    ["matmul-row-start", "chunk 0 of a two-chunk MATMUL row (K = 50): weights, patch, bias; no write", (s) => is(Opcode.MATMUL)(s) && s.state.j === 0 && s.reads === "ccl"],
    ["matmul-row-end", "the last chunk of a two-chunk MATMUL row: rounds by the shift and stores", (s) => is(Opcode.MATMUL)(s) && s.state.j === 1],
    ["avgpool-padding-row", "an AVGPOOL kernel row all padding (pad 1): no read, the state moves to the next row", (s) => is(Opcode.AVGPOOL)(s) && s.reads === ""],
    ["avgpool-last-row", "AVGPOOL's last kernel row: stores divRound(sum, KH·KW), padding counted", (s) => is(Opcode.AVGPOOL)(s) && s.reads.endsWith("l") && s.state.aux > 0],
  ],
  2: [
    ["im2col-dilated", "an IM2COL piece of a dilated convolution (dilation 2): its segment's words 2 apart", (s) => is(Opcode.IM2COL)(s) && s.reads === "cl" && s.state.j > 0],
    ["avgpool-valid-last-row", "AVGPOOL_VALID's last kernel row: stores divRound(sum, positions inside)", (s) => is(Opcode.AVGPOOL_VALID)(s) && s.reads.endsWith("l") && s.state.aux > 0],
  ],
  3: [
    ["im2col-group-2", "the second group's IM2COL (a grouped convolution): its image is channels 2–3", (s) => is(Opcode.IM2COL)(s) && s.state.pc === 2 && s.state.i === 0 && s.state.j === 0],
    ["maxpool-straddle", "a MAXPOOL kernel row straddling two chunks", (s) => is(Opcode.MAXPOOL)(s) && s.reads.startsWith("cc")],
  ],
};

export function makeCnnWitnessFixtures(): WitnessFixture[] {
  const fixtures: WitnessFixture[] = [];
  for (const [index, wanted] of Object.entries(WANTED)) {
    const [title, shape, seed] = CNN_SHAPES[Number(index)];
    const p = cnnProgram(shape, seed);
    const tree = new MemoryTree(p.program, p.words);
    const found = new Map<string, WitnessFixture>();
    for (let state = INITIAL_STATE; !state.halted && found.size < wanted.length; ) {
      const witness = tree.witness(state);
      const pre = toHex(tree.stateHash(state));
      const opcode = p.program.instructions[state.pc].opcode;
      const next = tree.apply(state);
      const s: RunStep = { state, next, opcode, reads: witness.reads.map((r) => r.kind[0]).join(""), witness };
      for (const [name, description, matches] of wanted) {
        if (found.has(name) || !matches(s)) continue;
        found.set(name, {
          name: `cnn-${name}`,
          description: `step ${state.step} (${opcodeInfo(opcode)!.name}): ${description}`,
          model: `test/evm/traces-ops-cnn.ts cnnProgram(CNN_SHAPES[${index}] "${title}", ${seed}), program root ${toHex(tree.programRoot)}`,
          preStateHash: pre,
          postStateHash: toHex(witness.postStateHash),
          witness: witnessToJson(witness),
        });
      }
      state = next;
    }
    for (const [name] of wanted) {
      const fixture = found.get(name);
      if (!fixture) throw new Error(`no step of CNN_SHAPES[${index}] is a cnn-${name}`);
      fixtures.push(fixture);
    }
  }
  return fixtures;
}
