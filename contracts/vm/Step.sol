// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Activations} from "./Activations.sol";
import {Fixed} from "./Fixed.sol";
import {Memory} from "./Memory.sol";
import {Opcodes} from "./Opcodes.sol";
import {Program} from "./Program.sol";
import {State} from "./State.sol";
import {Read, Reader, WitnessMemory} from "./WitnessMemory.sol";

/// The one write a step may make: a whole leaf (`some` false when the step writes nothing).
struct LeafWrite {
    bool some;
    uint256 addr;
    bytes32 leaf;
}

struct StepResult {
    State state;
    LeafWrite write;
}

/// @title The step function.
/// @notice The Solidity twin of vm/step.ts, function for function and in the same order: step() dispatches on
/// the opcode to executors of one signature, (state, operands, memory) → (state, write). Executors update the
/// state struct they are given (a fresh copy per step) instead of spreading a new object.
library Step {
    using WitnessMemory for Reader;

    /// One step from `s`, whose current instruction is `insn`. A halted state steps to itself; an opcode outside
    /// the table traps: the machine halts where it is.
    function step(State memory s, bytes32 insn, Reader memory memory_, Read[] calldata reads) internal pure returns (StepResult memory r) {
        if (s.halted) return r = StepResult(s, LeafWrite(false, 0, 0));
        uint256 opcode = Program.opcodeOf(insn);
        uint256[7] memory args = Program.operandsOf(insn);
        uint64 count = s.step;
        if (opcode == Opcodes.HALT) r = executeHalt(s);
        else if (opcode == Opcodes.DENSE) r = executeDense(s, args, memory_, reads);
        else if (opcode == Opcodes.RELU || opcode == Opcodes.SIGMOID || opcode == Opcodes.TANH) r = executeActivation(opcode, s, args, memory_, reads);
        else if (opcode == Opcodes.ARGMAX) r = executeArgmax(s, args, memory_, reads);
        else {
            s.halted = true;
            r.state = s;
        }
        r.state.step = count + 1;
    }

    /// Move to the next instruction, clearing the loop registers.
    function nextInstruction(State memory s) private pure returns (State memory) {
        s.pc += 1;
        s.i = 0;
        s.j = 0;
        s.acc = 0;
        s.aux = 0;
        return s;
    }

    /// The leaf holding word `addr`, with that word replaced: the write of a one-word store.
    function storeWord(Reader memory memory_, Read[] calldata reads, uint256 addr, int32 value) private pure returns (LeafWrite memory) {
        uint256 leafAddr = addr - (addr % Memory.LEAF_WORDS);
        bytes32 leaf = memory_.readLeaf(reads, leafAddr);
        return LeafWrite(true, leafAddr, Memory.withWord(leaf, addr - leafAddr, value));
    }

    function executeHalt(State memory s) private pure returns (StepResult memory r) {
        s.halted = true;
        r.state = s;
    }

    /// DENSE's operands, by name.
    struct Dense {
        uint256 input;
        uint256 weights;
        uint256 bias;
        uint256 output;
        uint256 inputs;
        uint256 outputs;
    }

    /// DENSE input weights bias output inputs outputs — state (i, j) = (row r, chunk c); see vm/step.ts.
    function executeDense(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        Dense memory d = Dense(args[0], args[1], args[2], args[3], args[4], args[5]);
        uint256 chunks = (d.inputs + Memory.CHUNK_WORDS - 1) / Memory.CHUNK_WORDS;
        uint256 row = s.i;
        uint256 chunk = s.j;
        uint256 offset = chunk * Memory.CHUNK_WORDS;
        uint256 n = min(Memory.CHUNK_WORDS, d.inputs - offset);
        bytes32[] calldata w = memory_.readChunk(reads, d.weights + row * chunks * Memory.CHUNK_WORDS + offset);
        bytes32[] calldata x = memory_.readChunk(reads, d.input + offset);
        int64 start = chunk == 0 ? Fixed.biasToAcc(readWord(memory_, reads, d.bias + row)) : s.acc;
        int64 acc = Fixed.accumulate(start, Fixed.dot(w, x, n));
        if (chunk + 1 < chunks) {
            s.j = uint32(chunk + 1);
            s.acc = acc;
            r.state = s;
            return r;
        }
        r.write = storeWord(memory_, reads, d.output + row, Fixed.rescale(acc));
        if (row + 1 < d.outputs) {
            s.i = uint32(row + 1);
            s.j = 0;
            s.acc = 0;
            r.state = s;
        } else r.state = nextInstruction(s);
    }

    /// RELU / SIGMOID / TANH addr n — state i = leaf: applies the function to the up-to-8 words of leaf i, in place.
    function executeActivation(uint256 opcode, State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        (uint256 addr, uint256 n) = (args[0], args[1]);
        uint256 leaf = s.i;
        uint256 leafAddr = addr + leaf * Memory.LEAF_WORDS;
        bytes32 words = memory_.readLeaf(reads, leafAddr);
        uint256 count = min(Memory.LEAF_WORDS, n - leaf * Memory.LEAF_WORDS);
        for (uint256 t = 0; t < count; ++t) words = Memory.withWord(words, t, activate(opcode, Memory.wordAt(words, t)));
        if ((leaf + 1) * Memory.LEAF_WORDS < n) {
            s.i = uint32(leaf + 1);
            r.state = s;
        } else r.state = nextInstruction(s);
        r.write = LeafWrite(true, leafAddr, words);
    }

    /// ARGMAX src n dst — state i = leaf, acc = best value so far, aux = its index; ties keep the lowest index.
    function executeArgmax(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        (uint256 src, uint256 n, uint256 dst) = (args[0], args[1], args[2]);
        uint256 leaf = s.i;
        bytes32 words = memory_.readLeaf(reads, src + leaf * Memory.LEAF_WORDS);
        uint256 count = min(Memory.LEAF_WORDS, n - leaf * Memory.LEAF_WORDS);
        int64 best = s.acc;
        int32 bestIndex = s.aux;
        for (uint256 t = 0; t < count; ++t) {
            uint256 index = leaf * Memory.LEAF_WORDS + t;
            int64 v = Memory.wordAt(words, t);
            if (index == 0 || v > best) {
                best = v;
                bestIndex = int32(int256(index));
            }
        }
        if ((leaf + 1) * Memory.LEAF_WORDS < n) {
            s.i = uint32(leaf + 1);
            s.acc = best;
            s.aux = bestIndex;
            r.state = s;
            return r;
        }
        r.state = nextInstruction(s);
        r.write = storeWord(memory_, reads, dst, bestIndex);
    }

    function readWord(Reader memory memory_, Read[] calldata reads, uint256 addr) private pure returns (int32) {
        uint256 leafAddr = addr - (addr % Memory.LEAF_WORDS);
        return Memory.wordAt(memory_.readLeaf(reads, leafAddr), addr - leafAddr);
    }

    /// The activation of an opcode (the TypeScript table maps RELU, SIGMOID, TANH to these functions).
    function activate(uint256 opcode, int32 x) private pure returns (int32) {
        if (opcode == Opcodes.RELU) return Activations.relu(x);
        if (opcode == Opcodes.SIGMOID) return Activations.sigmoid(x);
        return Activations.tanh(x);
    }

    function min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
