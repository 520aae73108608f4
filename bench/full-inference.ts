/**
 * The full-inference baseline (contracts/bench/FullInference.sol): deploys a compiled model's weights as data
 * contracts, laid out as the VM lays them out, and runs the whole inference in the in-process EVM.
 */
import type { CompiledModel } from "../compiler/compile.js";
import { type Deployed, InProcessEvm } from "../evm/inprocess.js";
import { toHex } from "../vm/hash.js";
import { CHUNK_WORDS, LEAF_WORDS, alignUp, encodeLeaf } from "../vm/memory.js";
import { Opcode } from "../vm/opcodes.js";
import type { Instruction } from "../vm/program.js";

/** EIP-170's limit on deployed code, less the leading STOP byte that keeps a data contract from running. */
const MAX_DATA_BYTES = 24_576 - 1;

/** Init code that deploys `data` as the code of a contract, behind a 0x00 (STOP) byte. */
function dataContractInitCode(data: Uint8Array): string {
  const size = data.length + 1;
  const sz = size.toString(16).padStart(4, "0");
  // PUSH2 size, PUSH1 14, PUSH1 0, CODECOPY, PUSH2 size, PUSH1 0, RETURN — then the code to deploy
  return `0x61${sz}600e600039` + `61${sz}6000f3` + "00" + Buffer.from(data).toString("hex");
}

function wordsBytes(words: Int32Array): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, k) => view.setInt32(4 * k, w, false));
  return bytes;
}

export interface FullInference {
  contract: Deployed;
  layers: unknown[];
  /** Runs one inference; returns the output words, the prediction and the gas of the transaction. */
  infer(input: Int32Array): Promise<{ output: number[]; prediction: number; gasUsed: bigint }>;
}

/** A RELU in place that keeps the format: what the contract applies to each row (it converts nothing). */
function isSameFormatRelu(insn: Instruction | undefined): boolean {
  if (insn?.opcode !== Opcode.RELU) return false;
  const [src, dst, , fin, fout] = insn.args;
  if (src !== dst || fin !== fout) throw new Error("FullInference supports only in-place, same-format ReLU layers");
  return true;
}

export async function deployFullInference(model: CompiledModel): Promise<FullInference> {
  const evm = await InProcessEvm.create();
  const contract = await evm.deploy("FullInference");
  const deployData = async (words: Int32Array) => (await evm.deployBytecode(dataContractInitCode(wordsBytes(words)), [])).address;
  const { instructions } = model.program;
  const layers: { weights: string[]; rowsPerContract: number; inputs: number; outputs: number; bias: string; shift: number; relu: boolean }[] = [];
  for (let k = 0; k < instructions.length; k++) {
    const insn = instructions[k];
    if (insn.opcode !== Opcode.DENSE) continue;
    const [, weights, bias, , inputs, outputs, shift] = insn.args;
    const stride = alignUp(inputs, CHUNK_WORDS);
    const rowsPerContract = Math.floor(MAX_DATA_BYTES / (stride * 4));
    const contracts: string[] = [];
    for (let r = 0; r < outputs; r += rowsPerContract) {
      const end = Math.min(outputs, r + rowsPerContract);
      contracts.push(await deployData(model.image.subarray(weights + r * stride, weights + end * stride)));
    }
    layers.push({
      weights: contracts,
      rowsPerContract,
      inputs,
      outputs,
      bias: await deployData(model.image.subarray(bias, bias + outputs)),
      shift,
      relu: isSameFormatRelu(instructions[k + 1]),
    });
  }
  return {
    contract,
    layers,
    async infer(input) {
      const leaves: string[] = [];
      for (let off = 0; off < input.length; off += LEAF_WORDS) leaves.push(toHex(encodeLeaf(input, off)));
      const { result, gasUsed } = await contract.transact("infer", [leaves, layers], { gasLimit: 30_000_000n });
      const [output, prediction] = result as [bigint[], bigint];
      return { output: output.map(Number), prediction: Number(prediction), gasUsed };
    },
  };
}
