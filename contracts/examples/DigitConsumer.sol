// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceConsumer} from "../protocol/IInferenceConsumer.sol";
import {InferenceOracle} from "../protocol/InferenceOracle.sol";

/// @title An example consumer: asks the oracle to classify a handwritten digit and keeps the answer.
/// @notice It accepts results only from the oracle, for requests it made, once each.
contract DigitConsumer is IInferenceConsumer {
    InferenceOracle public immutable oracle;
    bytes32 public immutable modelId;
    mapping(uint256 => bool) public asked;
    mapping(uint256 => int32) public digitOf;
    mapping(uint256 => bool) public answered;

    event Asked(uint256 indexed requestId);
    event Answered(uint256 indexed requestId, int32 digit);

    error NotOracle();
    error NotAsked(uint256 requestId);

    constructor(InferenceOracle oracle_, bytes32 modelId_) {
        oracle = oracle_;
        modelId = modelId_;
    }

    /// `pixels`: the 784 Q16.16 pixels packed into 98 leaves (InferenceOracle.request's input format).
    function classify(bytes32[] calldata pixels) external returns (uint256 requestId) {
        requestId = oracle.request(modelId, pixels, address(this));
        asked[requestId] = true;
        emit Asked(requestId);
    }

    function onInference(uint256 requestId, bytes32, int32[] calldata output) external {
        if (msg.sender != address(oracle)) revert NotOracle();
        if (!asked[requestId] || answered[requestId]) revert NotAsked(requestId);
        answered[requestId] = true;
        digitOf[requestId] = output[output.length - 1]; // a classifier's output ends with its prediction
        emit Answered(requestId, output[output.length - 1]);
    }
}
