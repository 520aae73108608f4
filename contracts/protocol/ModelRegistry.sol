// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// What the chain knows of a model: its commitment's fields (vm/commitment.ts), never its weights.
struct Model {
    bytes32 programRoot;
    bytes32 modelRoot;
    uint8 memoryDepth;
    uint8 flags;
    uint32 inputLength;
    uint32 outputAddress;
    uint32 outputLength;
    uint64 steps;
    address owner;
}

/// A model with this commitment is registered already.
error ModelAlreadyRegistered(bytes32 modelId);
/// No model has this id.
error ModelUnknown(bytes32 modelId);
/// The layout fields cannot describe a runnable program (memory depth, input or output outside the data region, no steps).
error ModelLayoutInvalid();

/// @title The model registry: one transaction registers a model's 32-byte commitment and its metadata.
/// @notice modelId = keccak256("mlvm.model" ‖ programRoot ‖ modelRoot ‖ u8 memoryDepth ‖ u8 flags ‖ u32 inputLength
/// ‖ u32 outputAddress ‖ u32 outputLength ‖ u64 steps), the same hash `mlvm compile` prints. Where the weights can
/// be downloaded is in the event only: nothing on-chain needs it.
contract ModelRegistry {
    mapping(bytes32 => Model) private models;

    event ModelRegistered(bytes32 indexed modelId, address indexed owner, Model model, string weightsURI);

    function register(Model calldata m, string calldata weightsURI) external returns (bytes32 modelId) {
        uint256 dataBase = m.memoryDepth >= 1 && m.memoryDepth <= 30 ? (uint256(1) << (m.memoryDepth - 1)) * 8 : 0;
        if (
            dataBase == 0 || m.steps == 0 || m.inputLength == 0 || m.outputLength == 0 || m.inputLength > dataBase
                || m.outputAddress < dataBase || uint256(m.outputAddress) + m.outputLength > 2 * dataBase
        ) revert ModelLayoutInvalid();
        modelId = keccak256(
            abi.encodePacked("mlvm.model", m.programRoot, m.modelRoot, m.memoryDepth, m.flags, m.inputLength, m.outputAddress, m.outputLength, m.steps)
        );
        if (models[modelId].owner != address(0)) revert ModelAlreadyRegistered(modelId);
        Model memory stored = m;
        stored.owner = msg.sender;
        models[modelId] = stored;
        emit ModelRegistered(modelId, msg.sender, stored, weightsURI);
    }

    function model(bytes32 modelId) external view returns (Model memory m) {
        m = models[modelId];
        if (m.owner == address(0)) revert ModelUnknown(modelId);
    }
}
