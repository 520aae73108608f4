// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Merkle} from "./Merkle.sol";
import {Program} from "./Program.sol";
import {State, StateLib} from "./State.sol";
import {Step, StepResult} from "./Step.sol";
import {Read, Reader, WitnessMemory} from "./WitnessMemory.sol";

/// A step witness (vm/witness.ts), without its post-state hash, which the verifier computes.
struct Witness {
    bytes preState;
    bytes32 instruction;
    bytes32[] instructionProof;
    Read[] reads;
}

/// The pre-state preimage is not 97 bytes.
error WitnessPreStateLength(uint256 length);
/// The pre-state preimage does not hash to the pre-state hash.
error WitnessPreStateMismatch();
/// The instruction's position (pc) does not fit its proof's length.
error WitnessInstructionIndexTooLarge(uint256 pc);
/// The instruction's path does not lead to the program root.
error WitnessInstructionProofInvalid();

/// @title The one-step verifier's rules.
/// @notice The Solidity twin of vm/onestep.ts: checks the pre-state, the instruction and every read, runs the
/// step, and returns the post-state hash, computed by the step and never anything else.
library OneStep {
    using WitnessMemory for Reader;

    function verifyStep(bytes32 preStateHash, Witness calldata w) internal pure returns (bytes32) {
        if (w.preState.length != StateLib.STATE_PREIMAGE_BYTES) revert WitnessPreStateLength(w.preState.length);
        if (keccak256(abi.encodePacked("mlvm.state", w.preState)) != preStateHash) revert WitnessPreStateMismatch();
        (bytes32 programRoot, bytes32 memoryRoot, State memory state) = StateLib.decodeState(w.preState);
        if (state.halted) return preStateHash;

        if (w.instructionProof.length < 256 && uint256(state.pc) >> w.instructionProof.length != 0) revert WitnessInstructionIndexTooLarge(state.pc);
        if (Merkle.rootFromProof(Program.hashInstruction(w.instruction), state.pc, w.instructionProof) != programRoot) {
            revert WitnessInstructionProofInvalid();
        }

        Reader memory memory_ = Reader(0, memoryRoot);
        StepResult memory result = Step.step(state, w.instruction, memory_, w.reads);
        memory_.finish(w.reads);
        bytes32 newRoot = result.write.some ? WitnessMemory.rootAfter(w.reads, result.write.addr, result.write.leaf) : memoryRoot;
        return StateLib.hashState(programRoot, newRoot, result.state);
    }
}
