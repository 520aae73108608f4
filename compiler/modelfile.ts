/**
 * The .mlvm model file: a compiled model, ready to run or register, with a checksum.
 *
 *   "MLVM" | u16 file version | u16 zero | keccak256(body) (32 bytes) | body
 *   body = u32 n | n bytes of metadata JSON (UTF-8) | u32 m | m bytes of bytecode | u32 w | w × i32 image words
 * (all big-endian). Loading checks the magic, the version, the lengths, the checksum, decodes and validates
 * the bytecode, and recomputes the model commitment and compares it with the one the metadata records.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { MlvmError } from "../vm/errors.js";
import { commitModel } from "../vm/commitment.js";
import { toHex } from "../vm/hash.js";
import { decodeProgram, encodeProgram } from "../vm/program.js";
import type { CompiledModel, ModelMeta } from "./compile.js";

export const MODEL_FILE_MAGIC = "MLVM";
export const MODEL_FILE_VERSION = 2;
const PREFIX_BYTES = 4 + 2 + 2 + 32;

/** A .mlvm file that is truncated, corrupted, of another version, or not a model file at all. */
export class ModelFileError extends MlvmError {}

export function encodeModelFile(model: CompiledModel): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify(model.meta));
  const bytecode = encodeProgram(model.program);
  const body = new Uint8Array(4 + meta.length + 4 + bytecode.length + 4 + 4 * model.image.length);
  const view = new DataView(body.buffer);
  let at = 0;
  view.setUint32(at, meta.length, false);
  body.set(meta, (at += 4));
  view.setUint32((at += meta.length), bytecode.length, false);
  body.set(bytecode, (at += 4));
  view.setUint32((at += bytecode.length), model.image.length, false);
  at += 4;
  for (let k = 0; k < model.image.length; k++, at += 4) view.setInt32(at, model.image[k], false);

  const file = new Uint8Array(PREFIX_BYTES + body.length);
  const head = new DataView(file.buffer);
  file.set(new TextEncoder().encode(MODEL_FILE_MAGIC), 0);
  head.setUint16(4, MODEL_FILE_VERSION, false);
  file.set(keccak_256(body), 8);
  file.set(body, PREFIX_BYTES);
  return file;
}

export function decodeModelFile(file: Uint8Array): CompiledModel {
  if (file.length < PREFIX_BYTES) throw new ModelFileError(`model file is ${file.length} bytes, too short to be an .mlvm file`);
  const magic = new TextDecoder().decode(file.subarray(0, 4));
  if (magic !== MODEL_FILE_MAGIC) throw new ModelFileError(`not an .mlvm model file (magic ${JSON.stringify(magic)}, expected "${MODEL_FILE_MAGIC}")`);
  const head = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = head.getUint16(4, false);
  if (version !== MODEL_FILE_VERSION) throw new ModelFileError(`model file version ${version} is not supported (this mlvm reads version ${MODEL_FILE_VERSION})`);
  const body = file.subarray(PREFIX_BYTES);
  if (toHex(keccak_256(body)) !== toHex(file.subarray(8, PREFIX_BYTES))) {
    throw new ModelFileError("model file is corrupted: its checksum does not match its contents");
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  const take = (n: number, what: string) => {
    if (at + n > body.length) throw new ModelFileError(`model file is truncated in its ${what}`);
    const slice = body.subarray(at, at + n);
    at += n;
    return slice;
  };
  const u32 = (what: string) => {
    take(4, what);
    return view.getUint32(at - 4, false);
  };
  const metaBytes = take(u32("metadata length"), "metadata");
  const bytecode = take(u32("bytecode length"), "bytecode");
  const words = u32("image length");
  const imageBytes = take(4 * words, "memory image");
  if (at !== body.length) throw new ModelFileError(`model file has ${body.length - at} unexpected trailing bytes`);

  let meta: ModelMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes)) as ModelMeta;
  } catch {
    throw new ModelFileError("model file metadata is not valid JSON");
  }
  const program = decodeProgram(bytecode);
  const image = new Int32Array(words);
  const imageStart = imageBytes.byteOffset - body.byteOffset;
  for (let k = 0; k < words; k++) image[k] = view.getInt32(imageStart + 4 * k, false);
  const commitment = commitModel(program, image);
  if (toHex(commitment.hash) !== meta.commitment) {
    throw new ModelFileError(`model file commitment ${meta.commitment} does not match its program and weights (${toHex(commitment.hash)})`);
  }
  return { meta, program, image, commitment };
}
