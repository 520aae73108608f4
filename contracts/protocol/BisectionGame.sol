// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OneStepVerifier} from "../OneStepVerifier.sol";
import {Merkle} from "../vm/Merkle.sol";
import {Witness} from "../vm/OneStep.sol";

/// The oracle that opened the games: told of every result, and the only one that may open a game.
interface IGameOwner {
    function onGameResolved(uint256 gameId, bool defenderWon) external;
}

/// No game has this id, or it is over.
error GameNotActive(uint256 gameId);
/// Only the oracle opens games.
error NotOracle();
/// The caller is not the party whose move it is.
error NotYourTurn(uint256 gameId);
/// The party to move has used up its clock: the game can only be ended by timeout().
error ClockExpired(uint256 gameId);
/// The party to move still has time.
error ClockRunning(uint256 gameId);
/// The revealed children do not hash to the disputed node.
error ChildrenMismatch(uint256 gameId);
/// The move does not fit the game's phase (a reveal at a leaf, a proof above one).
error WrongPhase(uint256 gameId);
/// The pre-state is not the last leaf of the subtree the challenger agreed with.
error PreStateNotProven(uint256 gameId);

/// @title The bisection game over a claimant's trace tree (shared/DESIGN.md, "The trace commitment and the game").
/// @notice The defender (claimant) reveals the two children of the disputed node; the challenger re-supplies them
/// and picks the one it disputes, agreeing with the other. When the challenger picks a right child it agrees with
/// the left one: that subtree is "agreed-left", and its last leaf is the state just before the disputed range. At
/// a leaf k the game ends: for k = 0 the defender's s0 must equal the s0 computed on-chain from the model and the
/// input; for k > 0 the one-step verifier runs s(k−1) (the agreed-left subtree's last leaf, proven under it) and
/// the defender wins if it yields the defender's s(k). Each party has a chess clock: only the clock of the party
/// to move runs, and a party whose clock runs out loses (timeout()).
contract BisectionGame {
    enum Turn {
        Defender,
        Challenger
    }

    struct Game {
        // slot 0
        uint64 claimId;
        address defender;
        uint8 depth; // of the disputed node; traceDepth at a leaf
        Turn turn;
        bool active;
        // slot 1
        address challenger;
        uint40 lastMove;
        uint32 defenderClock; // seconds left
        uint8 traceDepth;
        // slot 2
        uint64 index; // of the disputed node at its depth
        uint32 challengerClock;
        uint8 agreedHeight;
        bool hasAgreed;
        // slots 3–5
        bytes32 node;
        bytes32 agreedLeft;
        bytes32 initialState;
    }

    OneStepVerifier public immutable verifier;
    address public immutable oracle;
    /// Each party's total time for its moves, in seconds.
    uint32 public immutable clock;
    Game[] private games;

    event GameStarted(uint256 indexed gameId, uint256 indexed claimId, address indexed challenger, address defender, bytes32 traceRoot, uint8 traceDepth);
    event Revealed(uint256 indexed gameId, uint8 depth, uint64 index, bytes32 left, bytes32 right);
    event Chosen(uint256 indexed gameId, uint8 depth, uint64 index, bytes32 node, bool right);
    event Proved(uint256 indexed gameId, uint64 step, bytes32 postState, bool defenderWon);
    event TimedOut(uint256 indexed gameId, bool defenderWon);

    constructor(OneStepVerifier verifier_, uint32 clock_) {
        verifier = verifier_;
        oracle = msg.sender;
        clock = clock_;
    }

    function start(uint256 claimId, address defender, address challenger, bytes32 traceRoot, uint8 traceDepth, bytes32 initialState)
        external
        returns (uint256 gameId)
    {
        if (msg.sender != oracle) revert NotOracle();
        gameId = games.length;
        games.push(
            Game({
                claimId: uint64(claimId),
                defender: defender,
                depth: 0,
                turn: Turn.Defender,
                active: true,
                challenger: challenger,
                lastMove: uint40(block.timestamp),
                defenderClock: clock,
                traceDepth: traceDepth,
                index: 0,
                challengerClock: clock,
                agreedHeight: 0,
                hasAgreed: false,
                node: traceRoot,
                agreedLeft: 0,
                initialState: initialState
            })
        );
        emit GameStarted(gameId, claimId, challenger, defender, traceRoot, traceDepth);
    }

    /// The defender reveals the disputed node's children.
    function reveal(uint256 gameId, bytes32 left, bytes32 right) external {
        Game storage g = move(gameId, Turn.Defender);
        if (g.depth == g.traceDepth) revert WrongPhase(gameId);
        if (Merkle.hashNode(left, right) != g.node) revert ChildrenMismatch(gameId);
        g.turn = Turn.Challenger;
        emit Revealed(gameId, g.depth, g.index, left, right);
    }

    /// The challenger picks the child it disputes (re-supplying the revealed pair), agreeing with the other.
    function choose(uint256 gameId, bytes32 left, bytes32 right, bool pickRight) external {
        Game storage g = move(gameId, Turn.Challenger);
        if (g.depth == g.traceDepth) revert WrongPhase(gameId);
        if (Merkle.hashNode(left, right) != g.node) revert ChildrenMismatch(gameId);
        uint8 depth = g.depth + 1;
        if (pickRight) {
            g.agreedLeft = left;
            g.agreedHeight = g.traceDepth - depth;
            g.hasAgreed = true;
        }
        g.node = pickRight ? right : left;
        g.index = g.index * 2 + (pickRight ? 1 : 0);
        g.depth = depth;
        // At a leaf it stays the challenger's move: it must prove the step.
        g.turn = depth == g.traceDepth ? Turn.Challenger : Turn.Defender;
        emit Chosen(gameId, depth, g.index, g.node, pickRight);
    }

    /// Settles the game at a leaf. Anyone may call it (the result depends only on the truth); the challenger's
    /// clock must not have run out. For k > 0, `preStateHash` is s(k−1) with its path up to the agreed-left node.
    function prove(uint256 gameId, bytes32 preStateHash, bytes32[] calldata preStateProof, Witness calldata witness) external {
        Game storage g = games[gameId];
        if (!g.active) revert GameNotActive(gameId);
        if (g.depth != g.traceDepth) revert WrongPhase(gameId);
        if (block.timestamp - g.lastMove > g.challengerClock) revert ClockExpired(gameId);
        bool defenderWon;
        bytes32 post;
        if (g.index == 0) {
            post = g.initialState;
            defenderWon = g.node == g.initialState;
        } else {
            uint256 lastLeaf = (uint256(1) << g.agreedHeight) - 1;
            if (preStateProof.length != g.agreedHeight || Merkle.rootFromProof(preStateHash, lastLeaf, preStateProof) != g.agreedLeft) {
                revert PreStateNotProven(gameId);
            }
            post = verifier.verifyStep(preStateHash, witness);
            defenderWon = post == g.node;
        }
        emit Proved(gameId, g.index, post, defenderWon);
        end(gameId, g, defenderWon);
    }

    /// Ends a game whose party to move has run out of time: that party loses.
    function timeout(uint256 gameId) external {
        Game storage g = games[gameId];
        if (!g.active) revert GameNotActive(gameId);
        uint256 left = g.turn == Turn.Defender ? g.defenderClock : g.challengerClock;
        if (block.timestamp - g.lastMove <= left) revert ClockRunning(gameId);
        bool defenderWon = g.turn == Turn.Challenger;
        emit TimedOut(gameId, defenderWon);
        end(gameId, g, defenderWon);
    }

    function game(uint256 gameId) external view returns (Game memory) {
        return games[gameId];
    }

    function gameCount() external view returns (uint256) {
        return games.length;
    }

    /// Checks that it is `turn`'s move, by its player, on time, and charges the elapsed time to its clock.
    function move(uint256 gameId, Turn turn) private returns (Game storage g) {
        g = games[gameId];
        if (!g.active) revert GameNotActive(gameId);
        if (g.turn != turn || msg.sender != (turn == Turn.Defender ? g.defender : g.challenger)) revert NotYourTurn(gameId);
        uint256 elapsed = block.timestamp - g.lastMove;
        if (turn == Turn.Defender) {
            if (elapsed > g.defenderClock) revert ClockExpired(gameId);
            g.defenderClock -= uint32(elapsed);
        } else {
            if (elapsed > g.challengerClock) revert ClockExpired(gameId);
            g.challengerClock -= uint32(elapsed);
        }
        g.lastMove = uint40(block.timestamp);
    }

    function end(uint256 gameId, Game storage g, bool defenderWon) private {
        g.active = false;
        IGameOwner(oracle).onGameResolved(gameId, defenderWon);
    }
}
