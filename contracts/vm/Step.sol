// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Elementwise} from "./Elementwise.sol";
import {Fixed} from "./Fixed.sol";
import {LayerNorm} from "./LayerNorm.sol";
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
/// state struct they are given (a fresh copy per step) instead of spreading a new object. The unary ops (RELU …
/// SILU but ARGMAX, codes 0x02–0x0c) share executeUnary, which picks the value function of contracts/vm/Elementwise.sol
/// per word (unaryValue), as vm/step.ts's table gives each its function. A step that writes a leaf has read it: a
/// unary op or ADD reads its destination leaf unless it is one of its source leaves (in place). The off-chain
/// `saturated` count of vm/step.ts has no twin: it is not part of the state.
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
        else if (opcode == Opcodes.ARGMAX) r = executeArgmax(s, args, memory_, reads);
        else if (opcode == Opcodes.ADD) r = executeAdd(s, args, memory_, reads);
        else if (opcode == Opcodes.LAYERNORM) r = executeLayerNorm(s, args, memory_, reads);
        else if (opcode >= Opcodes.RELU && opcode <= Opcodes.SILU) r = executeUnary(opcode, s, args, memory_, reads); // ARGMAX excluded above
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
        uint256 shift;
    }

    /// DENSE input weights bias output inputs outputs shift — state (i, j) = (row r, chunk c); see vm/step.ts.
    /// The first chunk of a row starts from the bias widened by 2^shift; the last rounds the row by `shift` bits.
    function executeDense(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        Dense memory d = Dense(args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
        uint256 chunks = (d.inputs + Memory.CHUNK_WORDS - 1) / Memory.CHUNK_WORDS;
        uint256 row = s.i;
        uint256 chunk = s.j;
        uint256 offset = chunk * Memory.CHUNK_WORDS;
        uint256 n = min(Memory.CHUNK_WORDS, d.inputs - offset);
        bytes32[] calldata w = memory_.readChunk(reads, d.weights + row * chunks * Memory.CHUNK_WORDS + offset);
        bytes32[] calldata x = memory_.readChunk(reads, d.input + offset);
        int64 start = chunk == 0 ? Fixed.biasToAcc(readWord(memory_, reads, d.bias + row), d.shift) : s.acc;
        int64 acc = Fixed.accumulate(start, Fixed.dot(w, x, n));
        if (chunk + 1 < chunks) {
            s.j = uint32(chunk + 1);
            s.acc = acc;
            r.state = s;
            return r;
        }
        r.write = storeWord(memory_, reads, d.output + row, Fixed.rescale(acc, d.shift));
        if (row + 1 < d.outputs) {
            s.i = uint32(row + 1);
            s.j = 0;
            s.acc = 0;
            r.state = s;
        } else r.state = nextInstruction(s);
    }

    /// RELU, SIGMOID, … src dst n fin fout [p0 [p1]] — state i = leaf: the function of each of the up-to-8 words of
    /// src's leaf i goes to the same place in dst's leaf i; the destination's words past n are left as they are.
    /// Reads src's leaf, then dst's unless it is the same leaf (in place). p0, p1 (alpha; lo, hi) are int32 bits.
    function executeUnary(uint256 opcode, State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        uint256 leaf = s.i;
        uint256 srcLeaf = args[0] + leaf * Memory.LEAF_WORDS;
        uint256 dstLeaf = args[1] + leaf * Memory.LEAF_WORDS;
        bytes32 x = memory_.readLeaf(reads, srcLeaf);
        bytes32 words = dstLeaf == srcLeaf ? x : memory_.readLeaf(reads, dstLeaf);
        uint256 n = args[2];
        uint256 count = min(Memory.LEAF_WORDS, n - leaf * Memory.LEAF_WORDS);
        (uint256 fin, uint256 fout, int32 p0, int32 p1) = (args[3], args[4], int32(uint32(args[5])), int32(uint32(args[6])));
        for (uint256 t = 0; t < count; ++t) {
            words = Memory.withWord(words, t, Fixed.sat32(unaryValue(opcode, Memory.wordAt(x, t), fin, fout, p0, p1)));
        }
        if ((leaf + 1) * Memory.LEAF_WORDS < n) {
            s.i = uint32(leaf + 1);
            r.state = s;
        } else r.state = nextInstruction(s);
        r.write = LeafWrite(true, dstLeaf, words);
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

    /// ADD a b dst n fa fb fout — state i = leaf: dst[k] = a[k] + b[k] for the up-to-8 words of leaf i, a and b each
    /// in its own format, the sum in fout. Reads a's leaf, then b's, then dst's unless dst's leaf is one of them.
    function executeAdd(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        uint256 leaf = s.i;
        uint256 aLeaf = args[0] + leaf * Memory.LEAF_WORDS;
        uint256 bLeaf = args[1] + leaf * Memory.LEAF_WORDS;
        uint256 dstLeaf = args[2] + leaf * Memory.LEAF_WORDS;
        bytes32 x = memory_.readLeaf(reads, aLeaf);
        bytes32 y = memory_.readLeaf(reads, bLeaf);
        bytes32 words = dstLeaf == aLeaf ? x : dstLeaf == bLeaf ? y : memory_.readLeaf(reads, dstLeaf);
        uint256 n = args[3];
        uint256 count = min(Memory.LEAF_WORDS, n - leaf * Memory.LEAF_WORDS);
        for (uint256 t = 0; t < count; ++t) {
            int256 v = Elementwise.addValue(Memory.wordAt(x, t), Memory.wordAt(y, t), args[4], args[5], args[6]);
            words = Memory.withWord(words, t, Fixed.sat32(v));
        }
        if ((leaf + 1) * Memory.LEAF_WORDS < n) {
            s.i = uint32(leaf + 1);
            r.state = s;
        } else r.state = nextInstruction(s);
        r.write = LeafWrite(true, dstLeaf, words);
    }

    /// LAYERNORM src dst n params fin fout eps — state (i, j) = (leaf, pass); aux = the mean, acc = the running sum,
    /// then the packed scale (LayerNorm.sol). Pass 0 sums src's leaf i; pass 1 sums its squared deviations; pass 2
    /// reads src's leaf i, gamma's and beta's leaf i (at params and params + ⌈n/8⌉·8) and dst's leaf unless it is
    /// src's, and writes the normalized words to dst's leaf i. Sums are exact in int256 and stored as int64.
    function executeLayerNorm(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        uint256 leaf = s.i;
        uint256 n = args[2];
        uint256 srcLeaf = args[0] + leaf * Memory.LEAF_WORDS;
        bytes32 x = memory_.readLeaf(reads, srcLeaf);
        uint256 count = min(Memory.LEAF_WORDS, n - leaf * Memory.LEAF_WORDS);
        bool last = (leaf + 1) * Memory.LEAF_WORDS >= n;
        if (s.j < 2) {
            int256 acc = s.acc;
            if (s.j == 0) for (uint256 t = 0; t < count; ++t) acc += Memory.wordAt(x, t);
            else for (uint256 t = 0; t < count; ++t) acc += LayerNorm.squareTerm(Memory.wordAt(x, t), s.aux, n);
            if (!last) {
                s.i = uint32(leaf + 1);
                s.acc = int64(acc);
            } else if (s.j == 0) {
                (s.i, s.j, s.acc, s.aux) = (0, 1, 0, int32(LayerNorm.layerMean(acc, n)));
            } else {
                (s.i, s.j, s.acc) = (0, 2, int64(LayerNorm.layerScale(acc, n, args[4], args[6])));
            }
            r.state = s;
            return r;
        }
        uint256 params = args[3];
        bytes32 gamma = memory_.readLeaf(reads, params + leaf * Memory.LEAF_WORDS);
        bytes32 beta = memory_.readLeaf(reads, params + (n + Memory.LEAF_WORDS - 1) / Memory.LEAF_WORDS * Memory.LEAF_WORDS + leaf * Memory.LEAF_WORDS);
        uint256 dstLeaf = args[1] + leaf * Memory.LEAF_WORDS;
        bytes32 words = dstLeaf == srcLeaf ? x : memory_.readLeaf(reads, dstLeaf);
        for (uint256 t = 0; t < count; ++t) {
            int256 v = LayerNorm.layerNormValue(Memory.wordAt(x, t), s.aux, s.acc, Memory.wordAt(gamma, t), Memory.wordAt(beta, t), args[5]);
            words = Memory.withWord(words, t, Fixed.sat32(v));
        }
        if (!last) {
            s.i = uint32(leaf + 1);
            r.state = s;
        } else r.state = nextInstruction(s);
        r.write = LeafWrite(true, dstLeaf, words);
    }

    function readWord(Reader memory memory_, Read[] calldata reads, uint256 addr) private pure returns (int32) {
        uint256 leafAddr = addr - (addr % Memory.LEAF_WORDS);
        return Memory.wordAt(memory_.readLeaf(reads, leafAddr), addr - leafAddr);
    }

    /// The value function of a unary opcode (vm/step.ts's EXECUTORS table maps each to its function in
    /// vm/elementwise.ts); the caller checked that the opcode is one of RELU … SILU other than ARGMAX.
    function unaryValue(uint256 opcode, int32 x, uint256 fin, uint256 fout, int32 p0, int32 p1) private pure returns (int256) {
        if (opcode == Opcodes.RELU) return Elementwise.reluValue(x, fin, fout);
        if (opcode == Opcodes.SIGMOID) return Elementwise.sigmoidValue(x, fin, fout);
        if (opcode == Opcodes.TANH) return Elementwise.tanhValue(x, fin, fout);
        if (opcode == Opcodes.LEAKY_RELU) return Elementwise.leakyReluValue(x, fin, fout, p0);
        if (opcode == Opcodes.ELU) return Elementwise.eluValue(x, fin, fout, p0);
        if (opcode == Opcodes.SOFTPLUS) return Elementwise.softplusValue(x, fin, fout);
        if (opcode == Opcodes.CLIP) return Elementwise.clipValue(x, fin, fout, p0, p1);
        if (opcode == Opcodes.GELU) return Elementwise.geluValue(x, fin, fout);
        if (opcode == Opcodes.GELU_TANH) return Elementwise.geluTanhValue(x, fin, fout);
        return Elementwise.siluValue(x, fin, fout);
    }

    function min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
