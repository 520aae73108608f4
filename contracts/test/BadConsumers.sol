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
