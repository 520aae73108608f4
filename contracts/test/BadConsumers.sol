// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceConsumer} from "../protocol/IInferenceConsumer.sol";

/// A consumer whose callback always reverts.
contract RevertingConsumer is IInferenceConsumer {
    function onInference(uint256, bytes32, int32[] calldata) external pure {
        revert("no thanks");
    }
}

/// A consumer whose callback burns all the gas it is given.
contract GasHungryConsumer is IInferenceConsumer {
    uint256 public sink;

    function onInference(uint256, bytes32, int32[] calldata) external {
        for (uint256 k = 0;; ++k) sink = k;
    }
}

/// A consumer whose callback does real work in an inner call that needs NEEDED gas, and reverts (so the callback
/// fails) when that call got less: the consumer a caller would starve if finalize() could run the callback with
/// less than CALLBACK_GAS (test/protocol/callback-gas.test.ts).
contract GasNeedyConsumer is IInferenceConsumer {
    uint256 public constant NEEDED = 400_000;
    uint256 public answers;
    int32 public lastDigit;

    error Starved(uint256 gasLeft);

    function onInference(uint256, bytes32, int32[] calldata output) external {
        // The inner call gets all but 1/64 of what is left (EIP-150): ~490,000 of a full CALLBACK_GAS.
        (bool ok, bytes memory reason) = address(this).call(abi.encodeCall(this.work, (output[output.length - 1])));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
        answers += 1;
    }

    function work(int32 digit) external {
        if (gasleft() < NEEDED) revert Starved(gasleft());
        lastDigit = digit;
    }
}
