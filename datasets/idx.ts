/**
 * The IDX file format of the MNIST distribution (optionally gzipped, as it is distributed):
 *   u8 0 | u8 0 | u8 type (0x08 = unsigned byte) | u8 rank | rank × u32 dims (big-endian) | data
 */
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { MlvmError } from "../vm/errors.js";

/** A file that is not a well-formed IDX file of unsigned bytes. */
export class IdxFormatError extends MlvmError {}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function parseIdx(raw: Uint8Array, what: string): IdxArray {
  let bytes = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (error) {
      throw new IdxFormatError(`${what}: corrupt gzip data (${(error as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new IdxFormatError(`${what}: not an IDX file (bad magic)`);
  if (bytes[2] !== 0x08) throw new IdxFormatError(`${what}: IDX element type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new IdxFormatError(`${what}: IDX header is truncated`);
  const dims: number[] = [];
  for (let k = 0; k < rank; k++) dims.push(view.getUint32(4 + 4 * k, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length !== start + size) throw new IdxFormatError(`${what}: IDX data is ${bytes.length - start} bytes, its header says ${size}`);
  return { dims, data: bytes.subarray(start) };
}

export function readIdx(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (error) {
    throw new IdxFormatError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseIdx(raw, path);
}
