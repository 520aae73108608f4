import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { TAG, toHex } from "./hash.js";
import { INT64_MIN } from "./fixed.js";
import { INITIAL_STATE, STATE_PREIMAGE_BYTES, type State, decodeState, encodeState, hashState } from "./state.js";

const programRoot = new Uint8Array(32).fill(0xaa);
const memoryRoot = new Uint8Array(32).fill(0xbb);
const sample: State = { step: 2 ** 40 + 3, pc: 7, i: 127, j: 24, acc: -(1n << 50n) - 5n, aux: -3, halted: false };

describe("state encoding and hash", () => {
  it("packs the fields big-endian in the documented order", () => {
    const bytes = encodeState(programRoot, memoryRoot, { ...INITIAL_STATE, step: 1, pc: 2, i: 3, j: 4, acc: -1n, aux: 5, halted: true });
    expect(bytes.length).toBe(STATE_PREIMAGE_BYTES);
    expect(toHex(bytes.subarray(64))).toBe("0x" + "0000000000000001" + "00000002" + "00000003" + "00000004" + "ffffffffffffffff" + "00000005" + "01");
  });

  it("round-trips through decode", () => {
    const decoded = decodeState(encodeState(programRoot, memoryRoot, sample));
    expect(decoded.state).toEqual(sample);
    expect(toHex(decoded.programRoot)).toBe(toHex(programRoot));
    expect(toHex(decoded.memoryRoot)).toBe(toHex(memoryRoot));
    expect(decodeState(encodeState(programRoot, memoryRoot, { ...sample, acc: INT64_MIN })).state.acc).toBe(INT64_MIN);
  });

  it('hashes as keccak256("mlvm.state" ‖ preimage)', () => {
    const preimage = encodeState(programRoot, memoryRoot, sample);
    const expected = keccak_256(Uint8Array.from([...new TextEncoder().encode("mlvm.state"), ...preimage]));
    expect(toHex(hashState(programRoot, memoryRoot, sample))).toBe(toHex(expected));
    expect(new TextDecoder().decode(TAG.state)).toBe("mlvm.state");
  });

  it.each([
    ["step", { step: sample.step + 1 }],
    ["pc", { pc: 8 }],
    ["i", { i: 128 }],
    ["j", { j: 25 }],
    ["acc", { acc: sample.acc + 1n }],
    ["aux", { aux: -2 }],
    ["halted", { halted: true }],
  ])("commits to %s", (_, change) => {
    expect(toHex(hashState(programRoot, memoryRoot, { ...sample, ...change }))).not.toBe(toHex(hashState(programRoot, memoryRoot, sample)));
  });

  it("commits to both roots", () => {
    const h = toHex(hashState(programRoot, memoryRoot, sample));
    expect(toHex(hashState(memoryRoot, memoryRoot, sample))).not.toBe(h);
    expect(toHex(hashState(programRoot, programRoot, sample))).not.toBe(h);
  });

  it("rejects a preimage of the wrong length", () => {
    expect(() => decodeState(new Uint8Array(96))).toThrow(/97 bytes/);
  });
});
