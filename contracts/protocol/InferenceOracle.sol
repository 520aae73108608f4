// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OneStepVerifier} from "../OneStepVerifier.sol";
import {Memory} from "../vm/Memory.sol";
import {Merkle} from "../vm/Merkle.sol";
import {State, StateLib} from "../vm/State.sol";
import {BisectionGame, IGameOwner} from "./BisectionGame.sol";
import {IInferenceConsumer} from "./IInferenceConsumer.sol";
import {Model, ModelRegistry} from "./ModelRegistry.sol";

error RequestUnknown(uint256 requestId);
/// The model fields given do not hash to the request's model id.
error ModelMismatch(bytes32 modelId);
/// The input is not ⌈inputLength / 8⌉ leaves, or its last leaf has non-zero words past the input.
error InputMalformed();
error RequestAlreadyClaimed(uint256 requestId, uint256 claimId);
error RequestFulfilled(uint256 requestId);
error WrongBond(uint256 expected, uint256 sent);
/// The final state is not 97 bytes, not halted, not of the model's program, or not at step N.
error FinalStateInvalid();
/// The final state is not leaf N of the trace tree.
error FinalStateNotLastLeaf();
/// The output chunks do not cover the output region or are not in the final state's memory.
error OutputNotProven();
error ClaimUnknown(uint256 claimId);
/// The claim is void (it lost a game) or final.
error ClaimNotOpen(uint256 claimId);
error ChallengeWindowClosed(uint256 claimId);
error ChallengeWindowOpen(uint256 claimId);
error GamesOpen(uint256 claimId, uint256 games);
error ChallengerIsClaimant();
error NotGame();
error NothingToWithdraw();
/// A callback must be a contract (or zero, for none).
error CallbackNotContract(address callback);
/// finalize() was sent with too little gas for the callback to get its CALLBACK_GAS.
error CallbackGasTooLow();
error TransferFailed();
error Reentrancy();

/// @title The inference oracle: requests, bonded claims, challenges, finalization and delivery.
/// @notice A request commits to its input on-chain, and so to the initial state s0. A claim posts the output, the
/// trace root, the final state sN with its proof that it is leaf N, and a bond; the final state must be halted, at
/// the model's step count, and hold the output in its memory. Anyone may challenge within the window, with a
/// bond: each challenge is a bisection game. A claim that loses a game is void (its bond pays that challenger)
/// and the request opens again; a claim whose window has passed with every game won by the claimant is final,
/// and the consumer's callback receives the output (a reverting or gas-hungry callback cannot block that).
/// Money moves only by credit and withdraw(): what the contract holds always equals deposits − payouts.
contract InferenceOracle is IGameOwner {
    enum ClaimStatus {
        None,
        Open,
        Void,
        Final
    }

    struct Request {
        bytes32 modelId;
        bytes32 initialState;
        address callback;
        uint32 claims; // claims made so far: the next one is attempt claims + 1
        uint32 liveAttempt; // the live claim's attempt, or 0
        bool fulfilled;
    }

    /// Two slots, since a claim is the transaction users make most. Its request is not stored: a claim id is
    /// requestId · 2^32 + attempt. Its output is not stored either: finalize proves it again against the trace.
    struct Claim {
        address claimant;
        uint40 deadline;
        ClaimStatus status;
        uint8 traceDepth;
        uint16 openGames;
        bytes32 traceRoot;
    }

    ModelRegistry public immutable registry;
    BisectionGame public immutable game;
    uint256 public immutable claimBond;
    uint256 public immutable challengeBond;
    uint64 public immutable challengeWindow;
    /// Gas the consumer's callback may use at most.
    uint256 public constant CALLBACK_GAS = 500_000;

    mapping(uint256 => Request) private requests;
    mapping(uint256 => Claim) private claims;
    /// Request ids start at 1, so that the counter never costs a first write.
    uint256 public nextRequestId = 1;
    mapping(uint256 => uint256) private claimOfGame;
    mapping(uint256 => address) private challengerOfGame;
    mapping(address => uint256) public credit;
    uint256 private locked = 1;

    event InferenceRequested(uint256 indexed requestId, bytes32 indexed modelId, address indexed requester, address callback, bytes32 initialState, bytes32[] input);
    event Claimed(uint256 indexed claimId, uint256 indexed requestId, address indexed claimant, bytes32 traceRoot, bytes32 finalState, bytes32[] outputLeaves, uint40 deadline);
    event Challenged(uint256 indexed claimId, uint256 indexed gameId, address indexed challenger);
    /// Bonds received: with Withdrawn, what the contract holds is Σ Deposited − Σ Withdrawn.
    event Deposited(address indexed account, uint256 amount);
    event GameResolved(uint256 indexed claimId, uint256 indexed gameId, bool defenderWon);
    event ClaimVoided(uint256 indexed claimId, uint256 indexed requestId, address indexed winner);
    event Finalized(uint256 indexed claimId, uint256 indexed requestId, bool callbackSucceeded);
    event Credited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    constructor(ModelRegistry registry_, OneStepVerifier verifier, uint256 claimBond_, uint256 challengeBond_, uint64 challengeWindow_, uint32 clock) {
        registry = registry_;
        game = new BisectionGame(verifier, clock);
        claimBond = claimBond_;
        challengeBond = challengeBond_;
        challengeWindow = challengeWindow_;
    }

    /// Asks for an inference of `modelId` on `input`: the input's words packed into 32-byte leaves (8 big-endian
    /// int32 Q16.16 words each, zero-padded). `callback` (a contract, or zero for none) receives the final output;
    /// a contract asking from its own constructor has no code yet, so it must pass zero or ask later.
    function request(bytes32 modelId, bytes32[] calldata input, address callback) external returns (uint256 requestId) {
        if (callback != address(0) && callback.code.length == 0) revert CallbackNotContract(callback);
        Model memory m = registry.model(modelId);
        if (input.length != (uint256(m.inputLength) + 7) / 8) revert InputMalformed();
        uint256 used = m.inputLength % 8;
        if (used != 0 && uint256(input[input.length - 1]) << (32 * used) != 0) revert InputMalformed();
        bytes32 memoryRoot = Merkle.hashNode(m.modelRoot, regionRoot(input, m.memoryDepth - 1));
        State memory s0;
        bytes32 initialState = StateLib.hashState(m.programRoot, memoryRoot, s0);
        requestId = nextRequestId++;
        requests[requestId] = Request(modelId, initialState, callback, 0, 0, false);
        emit InferenceRequested(requestId, modelId, msg.sender, callback, initialState, input);
    }

    /// Claims the result of a request, with the claim bond. `model` is the request's model (its fields hash to
    /// the model id); `finalState` is sN's 97-byte preimage and `finalStateProof` its path as leaf N of the trace
    /// tree; `outputLeaves` are the whole chunks (4 leaves each) covering the output region in sN's memory, each
    /// with its path (D − 2 siblings) in `outputProofs`.
    function claim(
        uint256 requestId,
        Model calldata model,
        bytes32 traceRoot,
        bytes calldata finalState,
        bytes32[] calldata finalStateProof,
        bytes32[] calldata outputLeaves,
        bytes32[][] calldata outputProofs
    ) external payable returns (uint256 claimId) {
        Request storage r = requests[requestId];
        if (r.modelId == 0) revert RequestUnknown(requestId);
        if (r.fulfilled) revert RequestFulfilled(requestId);
        if (r.liveAttempt != 0) revert RequestAlreadyClaimed(requestId, (requestId << 32) | r.liveAttempt);
        if (msg.value != claimBond) revert WrongBond(claimBond, msg.value);
        checkModel(r.modelId, model);
        bytes32 finalHash = checkFinal(model, traceRoot, finalState, finalStateProof, outputLeaves, outputProofs);

        uint32 attempt = r.claims + 1;
        claimId = (requestId << 32) | attempt;
        uint40 deadline = uint40(block.timestamp + challengeWindow);
        claims[claimId] = Claim(msg.sender, deadline, ClaimStatus.Open, traceDepth(model.steps), 0, traceRoot);
        r.claims = attempt;
        r.liveAttempt = attempt;
        emit Deposited(msg.sender, msg.value);
        emit Claimed(claimId, requestId, msg.sender, traceRoot, finalHash, outputLeaves, deadline);
    }

    /// Disputes an open claim inside its window, with the challenge bond: starts a bisection game.
    function challenge(uint256 claimId) external payable returns (uint256 gameId) {
        Claim storage c = openClaim(claimId);
        if (block.timestamp > c.deadline) revert ChallengeWindowClosed(claimId);
        if (msg.sender == c.claimant) revert ChallengerIsClaimant();
        if (msg.value != challengeBond) revert WrongBond(challengeBond, msg.value);
        gameId = game.start(claimId, c.claimant, msg.sender, c.traceRoot, c.traceDepth, requests[claimId >> 32].initialState);
        c.openGames += 1;
        claimOfGame[gameId] = claimId;
        challengerOfGame[gameId] = msg.sender;
        emit Deposited(msg.sender, msg.value);
        emit Challenged(claimId, gameId, msg.sender);
    }

    /// Called by the game contract when a game ends: the winner is credited the loser's bond (and gets its own
    /// back); a claim that loses is void, its bond paid to that challenger, and its request opens again.
    function onGameResolved(uint256 gameId, bool defenderWon) external {
        if (msg.sender != address(game)) revert NotGame();
        uint256 claimId = claimOfGame[gameId];
        Claim storage c = claims[claimId];
        c.openGames -= 1;
        address challenger = challengerOfGame[gameId];
        emit GameResolved(claimId, gameId, defenderWon);
        if (defenderWon) {
            pay(c.claimant, challengeBond);
            return;
        }
        pay(challenger, challengeBond);
        if (c.status == ClaimStatus.Open) {
            c.status = ClaimStatus.Void;
            requests[claimId >> 32].liveAttempt = 0;
            pay(challenger, claimBond);
            emit ClaimVoided(claimId, claimId >> 32, challenger);
        }
    }

    /// Makes a claim final once its window has passed and no game against it is open; returns the claimant's bond
    /// and delivers the output to the request's callback, if any. The output is proven again as at claim time
    /// (anyone can rebuild these arguments from the Claimed event and the model), since the claim keeps only its
    /// trace root.
    function finalize(
        uint256 claimId,
        Model calldata model,
        bytes calldata finalState,
        bytes32[] calldata finalStateProof,
        bytes32[] calldata outputLeaves,
        bytes32[][] calldata outputProofs
    ) external {
        Claim storage c = openClaim(claimId);
        if (block.timestamp <= c.deadline) revert ChallengeWindowOpen(claimId);
        if (c.openGames != 0) revert GamesOpen(claimId, c.openGames);
        uint256 requestId = claimId >> 32;
        Request storage r = requests[requestId];
        checkModel(r.modelId, model);
        checkFinal(model, c.traceRoot, finalState, finalStateProof, outputLeaves, outputProofs);
        c.status = ClaimStatus.Final;
        r.fulfilled = true;
        r.liveAttempt = 0;
        pay(c.claimant, claimBond);
        bool delivered = true;
        if (r.callback != address(0)) {
            int32[] memory output = outputWords(model, outputLeaves);
            // A low-level call: a callback that reverts, exhausts its gas or lost its code leaves the claim final
            // and the bonds paid (a try/catch would itself revert on a target without code).
            (delivered,) = r.callback.call{gas: CALLBACK_GAS}(abi.encodeCall(IInferenceConsumer.onInference, (requestId, r.modelId, output)));
            // A call forwards at most 63/64 of the gas left. If the callback failed and less than CALLBACK_GAS / 63
            // remains, it may have been starved on purpose by a caller sending too little gas: refuse to finalize.
            if (!delivered && gasleft() < CALLBACK_GAS / 63) revert CallbackGasTooLow();
        }
        emit Finalized(claimId, requestId, delivered);
    }

    /// Pays out everything credited to the caller.
    function withdraw() external {
        if (locked != 1) revert Reentrancy();
        locked = 2;
        uint256 amount = credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credit[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed();
        locked = 1;
    }

    function getRequest(uint256 requestId) external view returns (Request memory r) {
        r = requests[requestId];
        if (r.modelId == 0) revert RequestUnknown(requestId);
    }

    function getClaim(uint256 claimId) external view returns (Claim memory c) {
        c = claims[claimId];
        if (c.status == ClaimStatus.None) revert ClaimUnknown(claimId);
    }

    function gameClaim(uint256 gameId) external view returns (uint256 claimId, address challenger) {
        return (claimOfGame[gameId], challengerOfGame[gameId]);
    }

    /// The depth of a trace tree over N + 1 states: the smallest d with 2^d ≥ N + 1.
    function traceDepth(uint256 steps) public pure returns (uint8 d) {
        while ((uint256(1) << d) < steps + 1) ++d;
    }

    function openClaim(uint256 claimId) private view returns (Claim storage c) {
        c = claims[claimId];
        if (c.status == ClaimStatus.None) revert ClaimUnknown(claimId);
        if (c.status != ClaimStatus.Open) revert ClaimNotOpen(claimId);
    }

    /// The model's fields hash to the model id (vm/commitment.ts), so they need no registry lookup.
    function checkModel(bytes32 modelId, Model calldata m) private pure {
        bytes32 id = keccak256(
            abi.encodePacked("mlvm.model", m.programRoot, m.modelRoot, m.memoryDepth, m.flags, m.inputLength, m.outputAddress, m.outputLength, m.steps)
        );
        if (id != modelId) revert ModelMismatch(modelId);
    }

    /// sN is halted at step N of the model's program, is leaf N of the trace tree, and holds the output chunks in
    /// its memory. Returns sN's hash.
    function checkFinal(
        Model calldata m,
        bytes32 traceRoot,
        bytes calldata finalState,
        bytes32[] calldata finalStateProof,
        bytes32[] calldata outputLeaves,
        bytes32[][] calldata outputProofs
    ) private pure returns (bytes32 finalHash) {
        if (finalState.length != StateLib.STATE_PREIMAGE_BYTES) revert FinalStateInvalid();
        (bytes32 programRoot, bytes32 memoryRoot, State memory sN) = StateLib.decodeState(finalState);
        if (programRoot != m.programRoot || !sN.halted || sN.step != m.steps) revert FinalStateInvalid();
        finalHash = keccak256(abi.encodePacked("mlvm.state", finalState));
        if (finalStateProof.length != traceDepth(m.steps) || Merkle.rootFromProof(finalHash, m.steps, finalStateProof) != traceRoot) {
            revert FinalStateNotLastLeaf();
        }
        checkOutput(m, memoryRoot, outputLeaves, outputProofs);
    }

    function pay(address account, uint256 amount) private {
        credit[account] += amount;
        emit Credited(account, amount);
    }

    /// The chunks holding the output region are in sN's memory: one path of D − 2 siblings per chunk.
    function checkOutput(Model calldata m, bytes32 memoryRoot, bytes32[] calldata leaves, bytes32[][] calldata proofs) private pure {
        uint256 first = m.outputAddress / Memory.CHUNK_WORDS;
        uint256 last = (uint256(m.outputAddress) + m.outputLength - 1) / Memory.CHUNK_WORDS;
        if (proofs.length != last - first + 1 || leaves.length != proofs.length * Memory.CHUNK_LEAVES) revert OutputNotProven();
        for (uint256 c = 0; c < proofs.length; ++c) {
            bytes32 chunk = Merkle.hashNode(
                Merkle.hashNode(Memory.hashLeaf(leaves[4 * c]), Memory.hashLeaf(leaves[4 * c + 1])),
                Merkle.hashNode(Memory.hashLeaf(leaves[4 * c + 2]), Memory.hashLeaf(leaves[4 * c + 3]))
            );
            if (proofs[c].length != m.memoryDepth - 2 || Merkle.rootFromProof(chunk, first + c, proofs[c]) != memoryRoot) revert OutputNotProven();
        }
    }

    /// The output region's words, from the chunks covering it.
    function outputWords(Model calldata m, bytes32[] calldata leaves) private pure returns (int32[] memory out) {
        out = new int32[](m.outputLength);
        uint256 start = m.outputAddress % Memory.CHUNK_WORDS;
        for (uint256 t = 0; t < m.outputLength; ++t) {
            uint256 w = start + t;
            out[t] = Memory.wordAt(leaves[w / 8], w % 8);
        }
    }

    /// The root of a depth-`depth` region holding `leaves` then zeros (vm/memory.ts regionRoot): the input's root.
    function regionRoot(bytes32[] calldata leaves, uint256 depth) private pure returns (bytes32) {
        bytes32[] memory level = new bytes32[](leaves.length);
        for (uint256 k = 0; k < leaves.length; ++k) level[k] = Memory.hashLeaf(leaves[k]);
        bytes32 empty = Memory.hashLeaf(0);
        uint256 length = leaves.length;
        for (uint256 d = 0; d < depth; ++d) {
            uint256 above = (length + 1) / 2;
            for (uint256 p = 0; p < above; ++p) level[p] = Merkle.hashNode(level[2 * p], 2 * p + 1 < length ? level[2 * p + 1] : empty);
            length = above;
            empty = Merkle.hashNode(empty, empty);
        }
        return length == 0 ? empty : level[0];
    }
}
