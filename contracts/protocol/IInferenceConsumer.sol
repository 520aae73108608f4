// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// A contract that asks the oracle for inferences and receives their final results.
interface IInferenceConsumer {
    /// Called once per request, when its claim is final. `output` is the program's output region (a
    /// classifier's logits followed by its prediction), each value a word in the model's output format:
    /// value = word / 2^outputFrac, with outputFrac from ModelRegistry.model(modelId).
    function onInference(uint256 requestId, bytes32 modelId, int32[] calldata output) external;
}
