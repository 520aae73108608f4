// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {OneStep, Witness} from "./vm/OneStep.sol";

/// @title mlvm's one-step verifier.
/// @notice Given the hash of a state s_k and a witness of the step s_k → s_{k+1}, returns the hash of s_{k+1} as
/// the mlvm VM computes it (contracts/vm/, the twin of vm/), or reverts with a custom error naming what in the
/// witness is inconsistent. It never returns a post-state other than the honest one.
contract OneStepVerifier {
    function verifyStep(bytes32 preStateHash, Witness calldata witness) external pure returns (bytes32 postStateHash) {
        return OneStep.verifyStep(preStateHash, witness);
    }
}
