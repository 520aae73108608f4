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
/// One game per (claim, challenger): a second challenge from the same key adds nothing.
error AlreadyChallenged(uint256 claimId, address challenger);
/// The claim is not void with every game over, so its bond is not shared out yet.
error ClaimNotSettled(uint256 claimId);
/// This challenger has no share of this claim's bond to collect (it did not win, or collected already).
error NoReward(uint256 claimId, address challenger);
/// challengeFor() is the oracle's own, for challengeMany().
error NotSelf();
/// A split of 0 or more than 8 levels per round.
error SplitInvalid(uint8 splitBits);
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
/// bond, once per key: each challenge is a dissection game. A claim that loses a game is void and the request
/// opens again; no challenge is taken after that, every game still open against it is decided for its
/// challenger, and once the last one ends the claim bond is settled: BURN_PERCENT of it is burned and the rest
/// shared equally by the challengers who won (so a liar that also challenges its own claim from other keys still
/// loses at least the burned part). Each challenger who won also gets its own bond back; one who lost pays it to
/// the claimant. A claim whose window has passed with every game won by the claimant is final, and the
/// consumer's callback receives the output with at least CALLBACK_GAS (finalize() refuses to run with less).
/// Money moves only by credit and withdraw(): what the contract holds always equals deposits − payouts, and
/// equals Σ credit + bonds at stake + burned.
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
        uint32 deadline;
        ClaimStatus status;
        uint8 traceDepth;
        uint24 openGames;
        uint24 winners; // challengers that won a game against it
        bytes32 traceRoot;
    }

    ModelRegistry public immutable registry;
    BisectionGame public immutable game;
    uint256 public immutable claimBond;
    uint256 public immutable challengeBond;
    uint64 public immutable challengeWindow;
    /// Gas the consumer's callback may use at most.
    uint256 public constant CALLBACK_GAS = 500_000;
    /// What finalize() needs left before the callback so that the call surely forwards CALLBACK_GAS: a call passes
    /// on at most 63/64 of what remains (EIP-150), and the CALL itself costs up to ~2,600 (cold account) + 700.
    uint256 public constant CALLBACK_GAS_NEEDED = CALLBACK_GAS + CALLBACK_GAS / 63 + 5_000;
    /// The part of a void claim's bond that nobody receives: the least a lie costs its claimant, whoever wins.
    uint256 public constant BURN_PERCENT = 50;

    mapping(uint256 => Request) private requests;
    mapping(uint256 => Claim) private claims;
    /// Request ids start at 1, so that the counter never costs a first write.
    uint256 public nextRequestId = 1;
    /// claim → challenger → its game id + 1, with REWARD_DUE set while a won game's share is uncollected.
    mapping(uint256 => mapping(address => uint256)) private gameOf;
    uint256 private constant REWARD_DUE = 1 << 255;
    mapping(address => uint256) public credit;
    /// Bonds burned: held by the contract for good.
    uint256 public burned;
    uint256 private locked = 1;

    event InferenceRequested(uint256 indexed requestId, bytes32 indexed modelId, address indexed requester, address callback, bytes32 initialState, bytes32[] input);
    event Claimed(uint256 indexed claimId, uint256 indexed requestId, address indexed claimant, bytes32 traceRoot, bytes32 finalState, bytes32[] outputLeaves, uint40 deadline);
    event Challenged(uint256 indexed claimId, uint256 indexed gameId, address indexed challenger);
    /// A claim in a challengeMany() that could not be challenged (`reason` is the revert): its bond is credited back.
    event ChallengeSkipped(uint256 indexed claimId, address indexed challenger, bytes reason);
    /// Bonds received: with Withdrawn, what the contract holds is Σ Deposited − Σ Withdrawn.
    event Deposited(address indexed account, uint256 amount);
    event GameResolved(uint256 indexed claimId, uint256 indexed gameId, bool defenderWon);
    event ClaimVoided(uint256 indexed claimId, uint256 indexed requestId, address indexed winner);
    /// A void claim's games are all over: `share` to each of `winners`, `burnedAmount` burned.
    event ClaimSettled(uint256 indexed claimId, uint256 winners, uint256 share, uint256 burnedAmount);
    event Finalized(uint256 indexed claimId, uint256 indexed requestId, bool callbackSucceeded);
    event Credited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    constructor(ModelRegistry registry_, OneStepVerifier verifier, uint256 claimBond_, uint256 challengeBond_, uint64 challengeWindow_, uint32 clock, uint8 splitBits) {
        if (splitBits == 0 || splitBits > 8) revert SplitInvalid(splitBits);
        registry = registry_;
        game = new BisectionGame(verifier, clock, splitBits);
        claimBond = claimBond_;
        challengeBond = challengeBond_;
        challengeWindow = challengeWindow_;
    }

    /// Asks for an inference of `modelId` on `input`: the input's words packed into 32-byte leaves (8 big-endian
    /// int32 words each, in the model's input format `inputFrac`, zero-padded). `callback` (a contract, or zero for none) receives the final output;
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
        uint32 deadline = uint32(block.timestamp + challengeWindow);
        claims[claimId] = Claim(msg.sender, deadline, ClaimStatus.Open, traceDepth(model.steps), 0, 0, traceRoot);
        r.claims = attempt;
        r.liveAttempt = attempt;
        emit Deposited(msg.sender, msg.value);
        emit Claimed(claimId, requestId, msg.sender, traceRoot, finalHash, outputLeaves, deadline);
    }

    /// Disputes an open claim inside its window, with the challenge bond: starts a dissection game.
    function challenge(uint256 claimId) external payable returns (uint256 gameId) {
        if (msg.value != challengeBond) revert WrongBond(challengeBond, msg.value);
        emit Deposited(msg.sender, msg.value);
        gameId = startGame(claimId, msg.sender);
    }

    /// Challenges many claims in one transaction, with one challenge bond each. A claim that cannot be challenged
    /// (void meanwhile, window closed, challenged by this key already) is skipped and its bond credited back.
    function challengeMany(uint256[] calldata claimIds) external payable {
        if (msg.value != challengeBond * claimIds.length) revert WrongBond(challengeBond * claimIds.length, msg.value);
        emit Deposited(msg.sender, msg.value);
        for (uint256 k = 0; k < claimIds.length; ++k) {
            try this.challengeFor(claimIds[k], msg.sender) {}
            catch (bytes memory reason) {
                emit ChallengeSkipped(claimIds[k], msg.sender, reason);
                pay(msg.sender, challengeBond);
            }
        }
    }

    /// challengeMany()'s step, a call of its own so that a claim that cannot be challenged reverts alone.
    function challengeFor(uint256 claimId, address challenger) external returns (uint256) {
        if (msg.sender != address(this)) revert NotSelf();
        return startGame(claimId, challenger);
    }

    /// Called by the game contract when a game ends. The defender won: the claimant gets the challenger's bond.
    /// The challenger won: it gets its bond back and a share of the claim bond at settlement; the claim's first
    /// loss voids it and opens its request again. Once a void claim has no game open, its bond is settled.
    function onGameResolved(uint256 gameId, uint256 claimId, address challenger, bool defenderWon) external {
        if (msg.sender != address(game)) revert NotGame();
        Claim storage c = claims[claimId];
        c.openGames -= 1;
        emit GameResolved(claimId, gameId, defenderWon);
        if (defenderWon) {
            pay(c.claimant, challengeBond);
        } else {
            pay(challenger, challengeBond);
            c.winners += 1;
            gameOf[claimId][challenger] |= REWARD_DUE;
            if (c.status == ClaimStatus.Open) {
                c.status = ClaimStatus.Void;
                requests[claimId >> 32].liveAttempt = 0;
                emit ClaimVoided(claimId, claimId >> 32, challenger);
            }
        }
        if (c.status == ClaimStatus.Void && c.openGames == 0) settle(claimId, c, defenderWon ? address(0) : challenger);
    }

    /// Credits a winning challenger its share of a settled claim's bond (unless settlement paid it already: the
    /// usual case of one challenger, whose win ends the last game). Anyone may call it.
    function collectReward(uint256 claimId, address challenger) external {
        Claim storage c = claims[claimId];
        if (c.status != ClaimStatus.Void || c.openGames != 0) revert ClaimNotSettled(claimId);
        uint256 entry = gameOf[claimId][challenger];
        if (entry & REWARD_DUE == 0) revert NoReward(claimId, challenger);
        gameOf[claimId][challenger] = entry & ~REWARD_DUE;
        pay(challenger, rewardShare(c.winners));
    }

    /// The share of a void claim's bond for each of `winners` challengers: what is not burned, split equally.
    function rewardShare(uint256 winners) public view returns (uint256) {
        return (claimBond - (claimBond * BURN_PERCENT) / 100) / winners;
    }

    /// The game `challenger` plays against `claimId`, and whether it has a share of the claim's bond to collect.
    function gameOfChallenger(uint256 claimId, address challenger) external view returns (bool exists, uint256 gameId, bool rewardDue) {
        uint256 entry = gameOf[claimId][challenger];
        return (entry != 0, (entry & ~REWARD_DUE) - (entry != 0 ? 1 : 0), entry & REWARD_DUE != 0);
    }

    function initialStateOf(uint256 claimId) external view returns (bytes32) {
        return requests[claimId >> 32].initialState;
    }

    function isVoid(uint256 claimId) external view returns (bool) {
        return claims[claimId].status == ClaimStatus.Void;
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
            bytes memory data = abi.encodeCall(IInferenceConsumer.onInference, (requestId, r.modelId, outputWords(model, outputLeaves)));
            // A caller could otherwise send just enough gas for the call to forward less than CALLBACK_GAS, starve
            // the callback (or a call it makes) and still finalize: the answer would be lost for good.
            if (gasleft() < CALLBACK_GAS_NEEDED) revert CallbackGasTooLow();
            // A low-level call: a callback that reverts, exhausts its gas or lost its code leaves the claim final
            // and the bonds paid (a try/catch would itself revert on a target without code).
            (delivered,) = r.callback.call{gas: CALLBACK_GAS}(data);
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


    /// The depth of a trace tree over N + 1 states: the smallest d with 2^d ≥ N + 1.
    function traceDepth(uint256 steps) public pure returns (uint8 d) {
        while ((uint256(1) << d) < steps + 1) ++d;
    }

    function openClaim(uint256 claimId) private view returns (Claim storage c) {
        c = claims[claimId];
        if (c.status == ClaimStatus.None) revert ClaimUnknown(claimId);
        if (c.status != ClaimStatus.Open) revert ClaimNotOpen(claimId);
    }

    function startGame(uint256 claimId, address challenger) private returns (uint256 gameId) {
        Claim storage c = openClaim(claimId);
        if (block.timestamp > c.deadline) revert ChallengeWindowClosed(claimId);
        if (challenger == c.claimant) revert ChallengerIsClaimant();
        if (gameOf[claimId][challenger] != 0) revert AlreadyChallenged(claimId, challenger);
        gameId = game.start(claimId, challenger, c.traceRoot, c.traceDepth);
        c.openGames += 1;
        gameOf[claimId][challenger] = gameId + 1;
        emit Challenged(claimId, gameId, challenger);
    }

    /// Every game against a void claim is over: burn BURN_PERCENT of its bond (and the division's remainder). When
    /// the game that ended last was the only one its challenger won (`lastWinner`), that challenger is paid at
    /// once; otherwise each winner collects its share with collectReward().
    function settle(uint256 claimId, Claim storage c, address lastWinner) private {
        uint256 share = rewardShare(c.winners);
        uint256 burn = claimBond - share * c.winners;
        burned += burn;
        emit ClaimSettled(claimId, c.winners, share, burn);
        if (c.winners == 1 && lastWinner != address(0)) {
            gameOf[claimId][lastWinner] &= ~REWARD_DUE;
            pay(lastWinner, share);
        }
    }

    /// The model's fields hash to the model id (vm/commitment.ts), so they need no registry lookup.
    function checkModel(bytes32 modelId, Model calldata m) private pure {
        bytes32 id = keccak256(
            abi.encodePacked("mlvm.model", m.programRoot, m.modelRoot, m.memoryDepth, m.flags, m.inputLength, m.outputAddress, m.outputLength, m.steps,
                m.inputFrac, m.outputFrac)
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
