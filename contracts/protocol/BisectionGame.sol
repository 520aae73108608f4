// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OneStepVerifier} from "../OneStepVerifier.sol";
import {Merkle} from "../vm/Merkle.sol";
import {Witness} from "../vm/OneStep.sol";

/// The oracle that opened the games: told of every result, and the only one that may open a game.
interface IGameOwner {
    function onGameResolved(uint256 gameId, uint256 claimId, address challenger, bool defenderWon) external;
    /// s0 of the claim's request: what leaf 0 of an honest trace must be.
    function initialStateOf(uint256 claimId) external view returns (bytes32);
    /// The claim lost a game already: every other game against it is decided for its challenger.
    function isVoid(uint256 claimId) external view returns (bool);
}

/// No game has this id, or it is over.
error GameNotActive(uint256 gameId);
/// Only the oracle opens games.
error NotOracle();
/// The caller is not the party whose move it is (or, for choose(), the disputed node is not revealed yet).
error NotYourTurn(uint256 gameId);
/// The party to move has used up its clock: the game can only be ended by timeout().
error ClockExpired(uint256 gameId);
/// The party to move still has time.
error ClockRunning(uint256 gameId);
/// The nodes given do not hash to the node they are said to open.
error ChildrenMismatch(bytes32 node);
/// A reveal of 0 levels, of more than the split, or with other than 2^levels nodes; a pick past the last node.
error MoveMalformed();
/// This node's descendants `levels` below were revealed already.
error AlreadyRevealed(bytes32 node, uint8 levels);
/// The move does not fit the game's phase (a choice at a leaf, a proof above one).
error WrongPhase(uint256 gameId);
/// The pre-state is not the last leaf of the subtree the challenger agreed with.
error PreStateNotProven(uint256 gameId);

/// @title k-ary dissection over a claimant's trace tree (README, "The dispute protocol").
/// @notice A round opens the disputed node `levels` = min(m, height) levels down: its 2^levels descendants are
/// revealed (by anyone: the reveal is checked by hash, so any honest party can answer for an honest claim, and one
/// reveal serves every game, of every claim, that reaches that node), then the challenger picks the first of them
/// it disputes, agreeing with the one to its left. That left neighbour is "agreed-left": its last leaf is the
/// state just before the disputed range. At a leaf k the game ends by prove(): for k = 0 the disputed leaf must
/// equal s0 computed on-chain at request time; for k > 0 the one-step verifier runs s(k−1) (the agreed-left
/// subtree's last leaf, proven under it) and the defender wins if it yields the disputed leaf. Each side has a
/// chess clock: the defender's runs while the disputed node is unrevealed, the challenger's from the later of the
/// node becoming disputed and its reveal; whoever runs out loses (timeout()). A game against a claim that is
/// already void is decided for its challenger at once. multicall() lands many moves in one transaction.
contract BisectionGame {
    struct Game {
        // slot 0
        uint64 claimId;
        address challenger;
        uint8 depth; // of the disputed node; traceDepth at a leaf
        uint8 traceDepth;
        bool active;
        bool challengerWon;
        // slot 1
        uint40 lastMove; // when the disputed node became disputed (start, or the last choice)
        uint32 defenderClock; // seconds left
        uint32 challengerClock;
        uint64 index; // of the disputed node at its depth
        uint8 agreedHeight;
        bool hasAgreed;
        // slots 2–3
        bytes32 node;
        bytes32 agreedLeft;
    }

    /// When a node's descendants were revealed, and in which block (where its Revealed event is).
    struct Reveal {
        uint40 time;
        uint64 blockNumber;
    }

    OneStepVerifier public immutable verifier;
    address public immutable oracle;
    /// Each party's total time for its moves, in seconds.
    uint32 public immutable clock;
    /// m: a round reveals 2^m nodes (fewer in the last round), so a trace of depth D takes ⌈D / m⌉ rounds.
    uint8 public immutable splitBits;
    Game[] private games;
    /// keccak256(node ‖ levels) → its reveal. Shared by every game: the descendants of a node are the same in
    /// whichever tree it appears (the hash binds them), and `levels` = min(m, height) depends on the node alone.
    mapping(bytes32 => Reveal) private reveals;

    event GameStarted(uint256 indexed gameId, uint256 indexed claimId, address indexed challenger, bytes32 traceRoot, uint8 traceDepth);
    event Revealed(bytes32 indexed node, uint8 levels, bytes32[] nodes);
    event Chosen(uint256 indexed gameId, uint8 depth, uint64 index, bytes32 node);
    event Proved(uint256 indexed gameId, uint64 step, bytes32 postState, bool defenderWon);
    event TimedOut(uint256 indexed gameId, bool defenderWon);
    /// A call of a multicall() that reverted; the others went through.
    event CallFailed(uint256 index, bytes reason);

    constructor(OneStepVerifier verifier_, uint32 clock_, uint8 splitBits_) {
        if (splitBits_ == 0 || splitBits_ > 8) revert MoveMalformed();
        verifier = verifier_;
        oracle = msg.sender;
        clock = clock_;
        splitBits = splitBits_;
    }

    function start(uint256 claimId, address challenger, bytes32 traceRoot, uint8 traceDepth) external returns (uint256 gameId) {
        if (msg.sender != oracle) revert NotOracle();
        gameId = games.length;
        Game storage g = games.push();
        g.claimId = uint64(claimId);
        g.challenger = challenger;
        g.traceDepth = traceDepth;
        g.active = true;
        g.lastMove = uint40(block.timestamp);
        g.defenderClock = clock;
        g.challengerClock = clock;
        g.node = traceRoot;
        emit GameStarted(gameId, claimId, challenger, traceRoot, traceDepth);
    }

    /// Reveals the 2^levels descendants of `node`, `levels` below it, left to right. Anyone may: they must hash
    /// to the node. levels = min(splitBits, the node's height); any other count serves no game.
    function reveal(bytes32 node, uint8 levels, bytes32[] calldata nodes) external {
        if (levels == 0 || levels > splitBits || nodes.length != uint256(1) << levels) revert MoveMalformed();
        Reveal storage r = reveals[revealKey(node, levels)];
        if (r.time != 0) revert AlreadyRevealed(node, levels);
        if (Merkle.subtreeRoot(nodes) != node) revert ChildrenMismatch(node);
        r.time = uint40(block.timestamp);
        r.blockNumber = uint64(block.number);
        emit Revealed(node, levels, nodes);
    }

    /// The challenger picks the revealed node it disputes (re-supplying the revealed nodes), agreeing with the
    /// one to its left.
    function choose(uint256 gameId, bytes32[] calldata nodes, uint256 pick) external {
        Game storage g = activeGame(gameId);
        if (msg.sender != g.challenger) revert NotYourTurn(gameId);
        if (g.depth == g.traceDepth) revert WrongPhase(gameId);
        uint8 levels = levelsAt(g);
        Reveal memory r = reveals[revealKey(g.node, levels)];
        if (r.time == 0) revert NotYourTurn(gameId);
        // The defender's clock ran from the node becoming disputed to its reveal (zero if revealed before).
        uint256 defenderUsed = r.time > g.lastMove ? r.time - g.lastMove : 0;
        uint256 challengerUsed = block.timestamp - (r.time > g.lastMove ? r.time : g.lastMove);
        if (defenderUsed > g.defenderClock || challengerUsed > g.challengerClock) revert ClockExpired(gameId);
        if (nodes.length != uint256(1) << levels || pick >= nodes.length) revert MoveMalformed();
        if (Merkle.subtreeRoot(nodes) != g.node) revert ChildrenMismatch(g.node);
        uint8 depth = g.depth + levels;
        if (pick > 0) {
            g.agreedLeft = nodes[pick - 1];
            g.agreedHeight = g.traceDepth - depth;
            g.hasAgreed = true;
        }
        g.defenderClock -= uint32(defenderUsed);
        g.challengerClock -= uint32(challengerUsed);
        g.lastMove = uint40(block.timestamp);
        g.node = nodes[pick];
        g.index = (g.index << levels) | uint64(pick);
        g.depth = depth;
        emit Chosen(gameId, depth, g.index, g.node);
    }

    /// Settles the game at a leaf. Anyone may call it (the result depends only on the truth); the challenger's
    /// clock must not have run out. For k > 0, `preStateHash` is s(k−1) with its path up to the agreed-left node.
    function prove(uint256 gameId, bytes32 preStateHash, bytes32[] calldata preStateProof, Witness calldata witness) external {
        Game storage g = activeGame(gameId);
        if (g.depth != g.traceDepth) revert WrongPhase(gameId);
        if (block.timestamp - g.lastMove > g.challengerClock) revert ClockExpired(gameId);
        bool defenderWon;
        bytes32 post;
        if (g.index == 0) {
            post = IGameOwner(oracle).initialStateOf(g.claimId);
            defenderWon = g.node == post;
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

    /// Ends a game whose party to move has run out of time (that party loses), or any game against a claim that
    /// is void already (its challenger wins: the claim is proven wrong). Anyone may call it.
    function timeout(uint256 gameId) external {
        Game storage g = activeGame(gameId);
        bool defenderWon;
        if (!IGameOwner(oracle).isVoid(g.claimId)) {
            (bool defenderToMove, uint256 used, uint256 left) = turn(g);
            if (used <= left) revert ClockRunning(gameId);
            defenderWon = !defenderToMove;
        }
        emit TimedOut(gameId, defenderWon);
        end(gameId, g, defenderWon);
    }

    /// Runs each call (an ABI-encoded call of this contract) as if sent alone by the caller; one that reverts is
    /// reported by CallFailed and skipped. One transaction can carry a move in every game its sender plays.
    function multicall(bytes[] calldata calls) external returns (bool[] memory ok) {
        ok = new bool[](calls.length);
        for (uint256 k = 0; k < calls.length; ++k) {
            bytes memory reason;
            (ok[k], reason) = address(this).delegatecall(calls[k]);
            if (!ok[k]) emit CallFailed(k, reason);
        }
    }

    function game(uint256 gameId) external view returns (Game memory) {
        return games[gameId];
    }

    function gameCount() external view returns (uint256) {
        return games.length;
    }

    /// Whose move it is, the seconds its clock has used on this move and the seconds it had left before it. A
    /// defender whose reveal came after its clock ran out is still "to move": it has lost.
    function status(uint256 gameId) external view returns (bool defenderToMove, uint256 used, uint256 left, uint8 levels) {
        Game storage g = activeGame(gameId);
        (defenderToMove, used, left) = turn(g);
        levels = g.depth == g.traceDepth ? 0 : levelsAt(g);
    }

    /// When `node`'s descendants `levels` below were revealed (0 if not), and the block of its Revealed event.
    function revealed(bytes32 node, uint8 levels) external view returns (uint40 time, uint64 blockNumber) {
        Reveal memory r = reveals[revealKey(node, levels)];
        return (r.time, r.blockNumber);
    }

    function revealKey(bytes32 node, uint8 levels) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(node, levels));
    }

    /// The levels the disputed node opens: m, or fewer in the last round.
    function levelsAt(Game storage g) private view returns (uint8) {
        uint8 height = g.traceDepth - g.depth;
        return height < splitBits ? height : splitBits;
    }

    function turn(Game storage g) private view returns (bool defenderToMove, uint256 used, uint256 left) {
        if (g.depth == g.traceDepth) return (false, block.timestamp - g.lastMove, g.challengerClock);
        uint40 revealedAt = reveals[revealKey(g.node, levelsAt(g))].time;
        if (revealedAt == 0) return (true, block.timestamp - g.lastMove, g.defenderClock);
        if (revealedAt > g.lastMove && revealedAt - g.lastMove > g.defenderClock) return (true, revealedAt - g.lastMove, g.defenderClock);
        return (false, block.timestamp - (revealedAt > g.lastMove ? revealedAt : g.lastMove), g.challengerClock);
    }

    function activeGame(uint256 gameId) private view returns (Game storage g) {
        if (gameId >= games.length || !games[gameId].active) revert GameNotActive(gameId);
        g = games[gameId];
    }

    function end(uint256 gameId, Game storage g, bool defenderWon) private {
        g.active = false;
        g.challengerWon = !defenderWon;
        IGameOwner(oracle).onGameResolved(gameId, g.claimId, g.challenger, defenderWon);
    }
}
