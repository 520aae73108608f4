/**
 * Machine state: the registers a step reads and writes. Together with the program root and the memory root
 * they are everything the state hash commits to.
 *
 *   step    u64  steps taken so far (s_k has step = k; a halted state keeps its count)
 *   pc      u32  index of the current instruction
 *   i       u32  outer loop counter of the current instruction (DENSE: row; MATMUL, pools: output word;
 *                IM2COL: output position; LAYERNORM and the elementwise ops: leaf)
 *   j       u32  inner loop counter (DENSE, MATMUL: chunk within the row; IM2COL: the next word of the patch;
 *                pools: kernel row; LAYERNORM: pass; others: 0)
 *   acc     i64  accumulator (DENSE, MATMUL: the row's sum; ARGMAX, MAXPOOL: the best value so far; AVGPOOL:
 *                the window's sum; LAYERNORM: a pass's sum, then its packed scale)
 *   aux     i32  auxiliary register (ARGMAX: the index of the best value so far; pools: the positions inside
 *                the image so far; LAYERNORM: the mean)
 *   halted  bool
 * When an instruction finishes, i, j, acc and aux return to 0, so every state has one encoding.
 *
 * State hash = keccak256("mlvm.state" ‖ programRoot ‖ memoryRoot ‖ u64 step ‖ u32 pc ‖ u32 i ‖ u32 j
 *                        ‖ i64 acc ‖ i32 aux ‖ u8 halted)               (big-endian, 97 bytes after the tag)
 * which is Solidity's keccak256(abi.encodePacked("mlvm.state", programRoot, memoryRoot, uint64 step, ...)).
 */
import { TAG, taggedHash } from "./hash.js";

export interface State {
  readonly step: number;
  readonly pc: number;
  readonly i: number;
  readonly j: number;
  readonly acc: bigint;
  readonly aux: number;
  readonly halted: boolean;
}

export const INITIAL_STATE: State = Object.freeze({ step: 0, pc: 0, i: 0, j: 0, acc: 0n, aux: 0, halted: false });

export const STATE_PREIMAGE_BYTES = 32 + 32 + 8 + 4 + 4 + 4 + 8 + 4 + 1;

/** The bytes hashed (after the tag): what a one-step proof sends as the pre-state preimage. */
export function encodeState(programRoot: Uint8Array, memoryRoot: Uint8Array, s: State): Uint8Array {
  const bytes = new Uint8Array(STATE_PREIMAGE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(programRoot, 0);
  bytes.set(memoryRoot, 32);
  view.setBigUint64(64, BigInt(s.step), false);
  view.setUint32(72, s.pc, false);
  view.setUint32(76, s.i, false);
  view.setUint32(80, s.j, false);
  view.setBigInt64(84, s.acc, false);
  view.setInt32(92, s.aux, false);
  view.setUint8(96, s.halted ? 1 : 0);
  return bytes;
}

export function decodeState(bytes: Uint8Array): { programRoot: Uint8Array; memoryRoot: Uint8Array; state: State } {
  if (bytes.length !== STATE_PREIMAGE_BYTES) throw new RangeError(`a state preimage is ${STATE_PREIMAGE_BYTES} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    programRoot: bytes.slice(0, 32),
    memoryRoot: bytes.slice(32, 64),
    state: {
      step: Number(view.getBigUint64(64, false)),
      pc: view.getUint32(72, false),
      i: view.getUint32(76, false),
      j: view.getUint32(80, false),
      acc: view.getBigInt64(84, false),
      aux: view.getInt32(92, false),
      halted: view.getUint8(96) !== 0,
    },
  };
}

export function hashState(programRoot: Uint8Array, memoryRoot: Uint8Array, s: State): Uint8Array {
  return taggedHash(TAG.state, encodeState(programRoot, memoryRoot, s));
}
