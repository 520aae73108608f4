// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Elementwise} from "./Elementwise.sol";
import {Fixed} from "./Fixed.sol";
import {LayerNorm} from "./LayerNorm.sol";
import {Memory} from "./Memory.sol";
import {Opcodes} from "./Opcodes.sol";
import {Program} from "./Program.sol";
import {State} from "./State.sol";
import {RowSpan, Window, WindowLib} from "./Window.sol";
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

/// How a pooling combines its window: the largest word, or the mean over the kernel or over the positions inside.
enum PoolKind {
    Max,
    Mean,
    MeanValid
}

/// A MATMUL instruction has pixels = 0: validated programs never do (vm/program.ts), and the step would divide by it.
error MatmulPixelsZero();

/// @title The step function.
/// @notice The Solidity twin of vm/step.ts, function for function and in the same order: step() dispatches on
/// the opcode to executors of one signature, (state, operands, memory) → (state, write). Executors update the
/// state struct they are given (a fresh copy per step) instead of spreading a new object. The unary ops (RELU …
/// SILU but ARGMAX, codes 0x02–0x0c) share executeUnary, which picks the value function of contracts/vm/Elementwise.sol
/// per word (unaryValue), as vm/step.ts's table gives each its function. DENSE and MATMUL share rowChunk (one
/// chunk of a row's dot product); IM2COL and the three poolings (executePool, its kind an enum as vm/step.ts's is a
/// string) read a window row's segment through readSegment, with the geometry of contracts/vm/Window.sol;
/// executePool's loop over a row and its final value are the private poolRow and poolValue (the IR pipeline cannot
/// fit them in its stack otherwise), and the loops over at most 33 words are unchecked (bounded, gas). A step
/// that writes a leaf has read it: a unary op or ADD reads its destination leaf unless it is one of its source
/// leaves (in place). The off-chain `saturated` count of vm/step.ts has no twin: it is not part of the state.
/// A step reverts only with a custom error: a witness read out of turn (WitnessMemory.sol) or, for an instruction
/// no valid program holds, a window or MATMUL size of 0 it would divide by (WindowDimensionZero, MatmulPixelsZero).
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
        else if (opcode == Opcodes.IM2COL) r = executeIm2col(s, args, memory_, reads);
        else if (opcode == Opcodes.MATMUL) r = executeMatmul(s, args, memory_, reads);
        else if (opcode == Opcodes.MAXPOOL) r = executePool(PoolKind.Max, s, args, memory_, reads);
        else if (opcode == Opcodes.AVGPOOL) r = executePool(PoolKind.Mean, s, args, memory_, reads);
        else if (opcode == Opcodes.AVGPOOL_VALID) r = executePool(PoolKind.MeanValid, s, args, memory_, reads);
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

    /// DENSE input weights bias output inputs outputs shift — state (i, j) = (row r, chunk c); see vm/step.ts.
    /// Row r of W starts at weights + r·stride, stride = ⌈inputs / 32⌉·32 (rows padded to whole chunks).
    function executeDense(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        (uint256 input, uint256 weights, uint256 bias, uint256 output, uint256 inputs, uint256 outputs, uint256 shift) =
            (args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
        uint256 row = s.i;
        uint256 stride = alignUp(inputs, Memory.CHUNK_WORDS);
        return rowChunk(s, memory_, reads, weights + row * stride, input, bias + row, output + row, inputs, shift, row + 1 < outputs);
    }

    /// One step of a row of DENSE or MATMUL: chunk j of the dot product of the weight row at w and the vector at x
    /// (each `inputs` words, padded to whole chunks), read in that order; the first chunk starts from the bias (the
    /// word at biasAddr, read third) widened by 2^shift; the last rounds the row to its output word at outAddr (its
    /// leaf read fourth, then written) and moves to the next row (i + 1) or, when `moreRows` is false, the next
    /// instruction.
    function rowChunk(
        State memory s, Reader memory memory_, Read[] calldata reads, uint256 w, uint256 x, uint256 biasAddr, uint256 outAddr,
        uint256 inputs, uint256 shift, bool moreRows
    ) private pure returns (StepResult memory r) {
        uint256 chunks = (inputs + Memory.CHUNK_WORDS - 1) / Memory.CHUNK_WORDS;
        uint256 chunk = s.j;
        uint256 offset = chunk * Memory.CHUNK_WORDS;
        uint256 n = min(Memory.CHUNK_WORDS, inputs - offset);
        bytes32[] calldata weights = memory_.readChunk(reads, w + offset);
        bytes32[] calldata values = memory_.readChunk(reads, x + offset);
        int64 start = chunk == 0 ? Fixed.biasToAcc(readWord(memory_, reads, biasAddr), shift) : s.acc;
        int64 acc = Fixed.accumulate(start, Fixed.dot(weights, values, n));
        if (chunk + 1 < chunks) {
            s.j = uint32(chunk + 1);
            s.acc = acc;
            r.state = s;
            return r;
        }
        r.write = storeWord(memory_, reads, outAddr, Fixed.rescale(acc, shift));
        if (moreRows) {
            s.i += 1;
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

    /// IM2COL src dst channels image out kernel pad — state (i, j) = (output position p, word k of its patch).
    /// Patch p is row p of the patch matrix at dst, ⌈K/32⌉·32 words a row (K = C·KH·KW), word k = (c, kh, kw) in that
    /// order: the image word under kernel position (kh, kw) of channel c, 0 on padding. A step fills one piece, words
    /// k … end−1 with end the first multiple of KW or of 8 after k (or K): one kernel row's segment, read from the
    /// chunks holding it (readSegment), into one leaf of the row, read then written.
    function executeIm2col(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        Window memory w = WindowLib.decodeWindow(args);
        uint256 k = WindowLib.patchWords(w);
        uint256 pixel = s.i;
        uint256 start = s.j;
        uint256 oh = pixel / w.outWidth;
        uint256 ow = pixel % w.outWidth;
        uint256 row = start / w.kernelW;
        uint256 c = row / w.kernelH;
        uint256 kh = row % w.kernelH;
        uint256 kw0 = start % w.kernelW;
        uint256 leafStart = start - (start % Memory.LEAF_WORDS);
        uint256 end = min(min((row + 1) * w.kernelW, leafStart + Memory.LEAF_WORDS), k);
        uint256 kw1 = kw0 + end - start;
        RowSpan memory span = WindowLib.windowRow(w, oh, ow, kh, kw0, kw1);
        int32[] memory values = readSegment(memory_, reads, w, args[0], c, ow, span);
        uint256 leafAddr = args[1] + pixel * alignUp(k, Memory.CHUNK_WORDS) + leafStart;
        bytes32 words = memory_.readLeaf(reads, leafAddr);
        (uint256 lo, uint256 hi) = (span.lo, span.hi);
        unchecked {
            // at most 8 columns of one leaf: nothing overflows
            for (uint256 kw = kw0; kw < kw1; ++kw) {
                words = Memory.withWord(words, start - leafStart + kw - kw0, kw >= lo && kw < hi ? values[kw - lo] : int32(0));
            }
        }
        if (end < k) s.j = uint32(end);
        else if (pixel + 1 < WindowLib.outputPixels(w)) {
            s.i = uint32(pixel + 1);
            s.j = 0;
        } else nextInstruction(s);
        r.state = s;
        r.write = LeafWrite(true, leafAddr, words);
    }

    /// MATMUL patches weights output inputs outputs pixels shift — state (i, j) = (output index r = oc·pixels + p,
    /// chunk). Output word r is DENSE's row oc over patch row p: weight row oc at weights + oc·stride, patch row p at
    /// patches + p·stride (stride = ⌈inputs/32⌉·32), bias oc at weights + outputs·stride + oc; stored at output + r.
    function executeMatmul(State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory) {
        (uint256 patches, uint256 weights, uint256 output, uint256 inputs, uint256 outputs, uint256 pixels, uint256 shift) =
            (args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
        if (pixels == 0) revert MatmulPixelsZero();
        uint256 index = s.i;
        uint256 oc = index / pixels;
        uint256 pixel = index % pixels;
        uint256 stride = alignUp(inputs, Memory.CHUNK_WORDS);
        uint256 biasAddr = weights + outputs * stride + oc;
        return rowChunk(s, memory_, reads, weights + oc * stride, patches + pixel * stride, biasAddr, output + index, inputs, shift, index + 1 < outputs * pixels);
    }

    /// MAXPOOL, AVGPOOL, AVGPOOL_VALID src dst channels image out kernel pad — state (i, j) = (output index
    /// r = c·OH·OW + p, kernel row kh); acc = the largest word so far (MAXPOOL) or the sum; aux = how many positions
    /// inside the image so far. A step reads kernel row kh's segment (readSegment); the last row stores the result at
    /// dst + r: MAXPOOL the largest (0 if every position was padding), AVGPOOL divRound(sum, KH·KW), AVGPOOL_VALID
    /// divRound(sum, aux) (0 if aux = 0). Sums are exact in int256 and stored as int64.
    function executePool(PoolKind kind, State memory s, uint256[7] memory args, Reader memory memory_, Read[] calldata reads) private pure returns (StepResult memory r) {
        Window memory w = WindowLib.decodeWindow(args);
        uint256 pixels = WindowLib.outputPixels(w);
        uint256 index = s.i;
        uint256 kh = s.j;
        int256 acc;
        int256 count;
        {
            // (a block, so that the stack holds its locals only while they are needed)
            uint256 c = index / pixels;
            uint256 pixel = index % pixels;
            uint256 ow = pixel % w.outWidth;
            RowSpan memory span = WindowLib.windowRow(w, pixel / w.outWidth, ow, kh, 0, w.kernelW);
            int32[] memory values = readSegment(memory_, reads, w, args[0], c, ow, span);
            (acc, count) = poolRow(kind, values, s.acc, s.aux);
        }
        if (kh + 1 < w.kernelH) {
            (s.j, s.acc, s.aux) = (uint32(kh + 1), int64(acc), int32(count));
            r.state = s;
            return r;
        }
        r.write = storeWord(memory_, reads, args[1] + index, poolValue(kind, w, acc, count));
        if (index + 1 < w.channels * pixels) {
            (s.i, s.j, s.acc, s.aux) = (uint32(index + 1), 0, 0, 0);
            r.state = s;
        } else r.state = nextInstruction(s);
    }

    /// executePool's loop over a kernel row's words (a function of its own only to keep executePool's stack shallow):
    /// the sum, or the largest word, of `acc` and the words; `count` grows by their number.
    function poolRow(PoolKind kind, int32[] memory values, int256 acc, int256 count) private pure returns (int256, int256) {
        bool max = kind == PoolKind.Max;
        uint256 n = values.length;
        unchecked {
            // at most 33 int32 words onto an int64 and a count: nothing overflows int256
            for (uint256 t = 0; t < n; ++t) {
                int256 v = values[t];
                if (!max) acc += v;
                else if (count + int256(t) == 0 || v > acc) acc = v; // the count so far is count + t
            }
            count += int256(n);
        }
        return (acc, count);
    }

    /// executePool's result once its last kernel row is in: MAXPOOL the largest word (0 if every position was
    /// padding), AVGPOOL divRound(sum, KH·KW), AVGPOOL_VALID divRound(sum, count) (0 if count = 0).
    function poolValue(PoolKind kind, Window memory w, int256 acc, int256 count) private pure returns (int32) {
        if (kind == PoolKind.Max) return count > 0 ? int32(acc) : int32(0);
        if (kind == PoolKind.Mean) return Fixed.divRound(acc, w.kernelH * w.kernelW);
        return count > 0 ? Fixed.divRound(acc, uint256(count)) : int32(0);
    }

    /// The image words of a window row's positions inside the image (kernel columns span.lo … span.hi−1 of channel c
    /// at output column ow): words first + t·DW, read from the one or two chunks that hold them (a valid program's
    /// segment spans at most 33 words). No read when the whole row is padding.
    function readSegment(
        Reader memory memory_, Read[] calldata reads, Window memory w, uint256 base, uint256 c, uint256 ow, RowSpan memory span
    ) private pure returns (int32[] memory values) {
        uint256 count = span.hi - span.lo;
        values = new int32[](count);
        if (count == 0) return values;
        uint256 first = WindowLib.imageAddress(w, base, c, uint256(span.ih), uint256(WindowLib.imageColumn(w, ow, span.lo)));
        uint256 firstChunk = first - (first % Memory.CHUNK_WORDS);
        uint256 last = first + (count - 1) * w.dilationW;
        uint256 lastChunk = last - (last % Memory.CHUNK_WORDS);
        bytes32[] calldata a = memory_.readChunk(reads, firstChunk);
        bytes32[] calldata b = lastChunk == firstChunk ? a : memory_.readChunk(reads, lastChunk);
        uint256 dilation = w.dilationW;
        unchecked {
            // addresses below 2^34 and at most 33 words: nothing overflows
            for (uint256 t = 0; t < count; ++t) {
                uint256 addr = first + t * dilation;
                values[t] = addr < firstChunk + Memory.CHUNK_WORDS ? chunkWord(a, addr - firstChunk) : chunkWord(b, addr - lastChunk);
            }
        }
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

    /// n rounded up to a multiple of `to` (vm/memory.ts alignUp).
    function alignUp(uint256 n, uint256 to) private pure returns (uint256) {
        return (n + to - 1) / to * to;
    }

    /// Word `offset` (0 … 31) of a chunk's four leaves.
    function chunkWord(bytes32[] calldata leaves, uint256 offset) private pure returns (int32) {
        return Memory.wordAt(leaves[offset / Memory.LEAF_WORDS], offset % Memory.LEAF_WORDS);
    }
}
