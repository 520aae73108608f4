// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Activations} from "../vm/Activations.sol";
import {Fixed} from "../vm/Fixed.sol";

/// @title A whole MLP inference in the EVM: the baseline a dispute step is compared with.
/// @notice Not part of the protocol. It computes exactly what the mlvm VM computes (same Fixed and Activations
/// library: bias widened by the layer's shift, 32-product chunks accumulated with saturation, one rescale per row, ReLU,
/// argmax with ties to the lowest index), as cheaply as an honest contract can: the weights live in the code of
/// data contracts (≤ 24 KB each, a whole number of rows apiece, as the VM lays them out: big-endian int32 words,
/// rows padded to 32 words, after one leading 0x00 byte) and are read with EXTCODECOPY one row at a time into a
/// reused buffer; the input comes in calldata as packed 32-byte leaves.
contract FullInference {
    struct Layer {
        address[] weights; // data contracts, rowsPerContract rows each
        uint256 rowsPerContract;
        uint256 inputs;
        uint256 outputs;
        address bias; // data contract holding `outputs` words
        uint256 shift; // the DENSE instruction's shift: fx + fw − fy (vm/fixed.ts)
        bool relu; // followed by a ReLU in the same format (fin = fout)
    }

    function infer(bytes32[] calldata input, Layer[] calldata layers) external view returns (int32[] memory out, uint256 prediction) {
        out = new int32[](layers[0].inputs);
        for (uint256 t = 0; t < out.length; ++t) out[t] = int32(uint32(uint256(input[t / 8]) >> (224 - 32 * (t % 8))));
        for (uint256 l = 0; l < layers.length; ++l) out = dense(out, layers[l]);
        for (uint256 t = 1; t < out.length; ++t) if (out[t] > out[prediction]) prediction = t;
    }

    function dense(int32[] memory x, Layer calldata layer) private view returns (int32[] memory y) {
        uint256 stride = (layer.inputs + 31) / 32 * 32;
        bytes memory row = new bytes(stride * 4);
        bytes memory bias = new bytes(layer.outputs * 4);
        address biasCode = layer.bias;
        assembly ("memory-safe") {
            extcodecopy(biasCode, add(bias, 32), 1, mload(bias))
        }
        y = new int32[](layer.outputs);
        for (uint256 r = 0; r < layer.outputs; ++r) {
            address data = layer.weights[r / layer.rowsPerContract];
            uint256 offset = 1 + (r % layer.rowsPerContract) * stride * 4;
            assembly ("memory-safe") {
                extcodecopy(data, add(row, 32), offset, mload(row))
            }
            int64 acc = Fixed.biasToAcc(wordOf(bias, r), layer.shift);
            for (uint256 c = 0; c < layer.inputs; c += 32) {
                uint256 end = c + 32 < layer.inputs ? c + 32 : layer.inputs;
                int256 sum;
                assembly ("memory-safe") {
                    // sum += w[t] · x[t]: w a big-endian int32 of the row buffer, x an int32[] element (a word)
                    let w := add(row, 32)
                    let xs := add(x, 32)
                    for { let t := c } lt(t, end) { t := add(t, 1) } {
                        sum := add(sum, mul(signextend(3, shr(224, mload(add(w, mul(t, 4))))), mload(add(xs, mul(t, 32)))))
                    }
                }
                acc = Fixed.accumulate(acc, sum);
            }
            y[r] = Fixed.rescale(acc, layer.shift);
            if (layer.relu) y[r] = Activations.relu(y[r]);
        }
    }

    /// Big-endian int32 word t of a byte buffer.
    function wordOf(bytes memory buffer, uint256 t) private pure returns (int32 w) {
        assembly ("memory-safe") {
            w := signextend(3, shr(224, mload(add(add(buffer, 32), mul(t, 4)))))
        }
    }
}
