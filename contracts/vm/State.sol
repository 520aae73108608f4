// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// The machine registers (vm/state.ts): step, pc, loop counters i and j, accumulator, auxiliary register, halted.
struct State {
    uint64 step;
    uint32 pc;
    uint32 i;
    uint32 j;
    int64 acc;
    int32 aux;
    bool halted;
}

/// @title State encoding and hash.
/// @notice The Solidity twin of vm/state.ts:
///   state hash = keccak256("mlvm.state" ‖ programRoot ‖ memoryRoot ‖ u64 step ‖ u32 pc ‖ u32 i ‖ u32 j
///                          ‖ i64 acc ‖ i32 aux ‖ u8 halted), all big-endian: 97 bytes after the tag.
library StateLib {
    uint256 internal constant STATE_PREIMAGE_BYTES = 97;

    /// The roots and registers of a 97-byte preimage (its length is the caller's to check).
    function decodeState(bytes calldata b) internal pure returns (bytes32 programRoot, bytes32 memoryRoot, State memory s) {
        programRoot = bytes32(b[0:32]);
        memoryRoot = bytes32(b[32:64]);
        s.step = uint64(bytes8(b[64:72]));
        s.pc = uint32(bytes4(b[72:76]));
        s.i = uint32(bytes4(b[76:80]));
        s.j = uint32(bytes4(b[80:84]));
        s.acc = int64(uint64(bytes8(b[84:92])));
        s.aux = int32(uint32(bytes4(b[92:96])));
        s.halted = b[96] != 0;
    }

    function hashState(bytes32 programRoot, bytes32 memoryRoot, State memory s) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("mlvm.state", programRoot, memoryRoot, s.step, s.pc, s.i, s.j, s.acc, s.aux, s.halted));
    }
}
