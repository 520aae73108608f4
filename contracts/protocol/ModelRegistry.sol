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
    /// Fraction bits of the input words and of the output values (vm/fixed.ts): value = word / 2^frac.
    uint8 inputFrac;
    uint8 outputFrac;
    /// Who registered it first: a record, not a right. Nothing on-chain reads it, and anyone may add a weights URI.
    address registrant;
}

/// A model with this commitment is registered already.
error ModelAlreadyRegistered(bytes32 modelId);
/// No model has this id.
error ModelUnknown(bytes32 modelId);
/// The layout fields cannot describe a runnable program (memory depth, input or output outside the data region, no steps,
/// a format with more than 24 fraction bits).
error ModelLayoutInvalid();

/// @title The model registry: one transaction registers a model's 32-byte commitment and its metadata.
/// @notice modelId = keccak256("mlvm.model" ‖ programRoot ‖ modelRoot ‖ u8 memoryDepth ‖ u8 flags ‖ u32 inputLength
/// ‖ u32 outputAddress ‖ u32 outputLength ‖ u64 steps ‖ u8 inputFrac ‖ u8 outputFrac), the same hash `mlvm compile` prints. The id is the model:
/// whoever registers it first gains nothing a later caller lacks. Where the weights can be downloaded is said in
/// events only (nothing on-chain needs it), and anyone may add a URI for a registered model, since a wrong one
/// costs nothing but a download whose commitment does not match.
contract ModelRegistry {
    mapping(bytes32 => Model) private models;

    event ModelRegistered(bytes32 indexed modelId, address indexed registrant, Model model, string weightsURI);
    event WeightsURIAdded(bytes32 indexed modelId, address indexed by, string weightsURI);

    function register(Model calldata m, string calldata weightsURI) external returns (bytes32 modelId) {
        uint256 dataBase = m.memoryDepth >= 1 && m.memoryDepth <= 30 ? (uint256(1) << (m.memoryDepth - 1)) * 8 : 0;
        if (
            dataBase == 0 || m.steps == 0 || m.inputLength == 0 || m.outputLength == 0 || m.inputLength > dataBase
                || m.outputAddress < dataBase || uint256(m.outputAddress) + m.outputLength > 2 * dataBase || m.inputFrac > 24
                || m.outputFrac > 24
        ) revert ModelLayoutInvalid();
        modelId = keccak256(
            abi.encodePacked("mlvm.model", m.programRoot, m.modelRoot, m.memoryDepth, m.flags, m.inputLength, m.outputAddress, m.outputLength, m.steps,
                m.inputFrac, m.outputFrac)
        );
        if (models[modelId].registrant != address(0)) revert ModelAlreadyRegistered(modelId);
        Model memory stored = m;
        stored.registrant = msg.sender;
        models[modelId] = stored;
        emit ModelRegistered(modelId, msg.sender, stored, weightsURI);
    }

    /// Adds a place the weights of a registered model can be downloaded from. Anyone may.
    function addWeightsURI(bytes32 modelId, string calldata weightsURI) external {
        if (models[modelId].registrant == address(0)) revert ModelUnknown(modelId);
        emit WeightsURIAdded(modelId, msg.sender, weightsURI);
    }

    function model(bytes32 modelId) external view returns (Model memory m) {
        m = models[modelId];
        if (m.registrant == address(0)) revert ModelUnknown(modelId);
    }
}
