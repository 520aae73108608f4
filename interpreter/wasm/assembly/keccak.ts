// keccak256 as Ethereum uses it: the Keccak[c = 512] sponge over Keccak-f[1600] (rate 136 bytes) with the
// ORIGINAL Keccak padding (0x01 … 0x80), not FIPS-202 SHA3's (0x06 … 0x80); 32-byte digest.
// Written from the Keccak reference (The Keccak reference, version 3.0, §1.2 and §2.1). The hot path of the whole
// system: every Merkle node and leaf is one hash, so the permutation keeps its 25 lanes in locals with a fully
// unrolled round body (the 24 rounds stay a loop: unrolling them too measured twice as slow in V8), the sponge
// state and the block being absorbed live in static buffers, and nothing is allocated per call.
// keccak256Concat / keccak256Concat3 absorb several pieces in sequence, so the caller never has to assemble
// `tag ‖ data` or `tag ‖ left ‖ right` itself.
//
// Lane (x, y) of the 5×5 state is the little-endian u64 at byte offset 8·(x + 5y), so a block's bytes are XORed
// into the first 17 lanes by plain unaligned u64 loads (WebAssembly is little-endian).

const RATE: usize = 136;

// Round constants RC[i] of the ι step: bit 2^j − 1 of RC[i] is rc(j + 7i), j = 0..6, where rc(t) is the output of
// the LFSR with polynomial x^8 + x^6 + x^5 + x^4 + 1 after t steps (computed from that definition, listed here).
const RC = memory.data<u64>([
  0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
  0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
  0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
  0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
  0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
  0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]);

/** The sponge state, 25 lanes (200 bytes). Meaningful only while `fresh` is false. */
const STATE = memory.data(200, 16);
/** The block being assembled (RATE bytes = 17 lanes). */
const BLOCK = memory.data(<i32>RATE, 16);
/** Bytes currently buffered in BLOCK. */
let used: usize = 0;
/** No block has been absorbed yet since begin(): the state is all zero and need not be read. */
let fresh = true;

/**
 * Absorbs the RATE bytes at `block` (state ^= block, or state = block when `fresh`) and applies Keccak-f[1600].
 * With `last`, the first 32 bytes of the result (the digest) go to `dst` and the state is not written back.
 */
function absorbPermute(block: usize, last: bool, dst: usize): void {
  let a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64, a7: u64, a8: u64, a9: u64, a10: u64, a11: u64, a12: u64, a13: u64, a14: u64, a15: u64, a16: u64, a17: u64, a18: u64, a19: u64, a20: u64, a21: u64, a22: u64, a23: u64, a24: u64;
  if (fresh) {
    a0 = load<u64>(block, 0);
    a1 = load<u64>(block, 8);
    a2 = load<u64>(block, 16);
    a3 = load<u64>(block, 24);
    a4 = load<u64>(block, 32);
    a5 = load<u64>(block, 40);
    a6 = load<u64>(block, 48);
    a7 = load<u64>(block, 56);
    a8 = load<u64>(block, 64);
    a9 = load<u64>(block, 72);
    a10 = load<u64>(block, 80);
    a11 = load<u64>(block, 88);
    a12 = load<u64>(block, 96);
    a13 = load<u64>(block, 104);
    a14 = load<u64>(block, 112);
    a15 = load<u64>(block, 120);
    a16 = load<u64>(block, 128);
    a17 = 0;
    a18 = 0;
    a19 = 0;
    a20 = 0;
    a21 = 0;
    a22 = 0;
    a23 = 0;
    a24 = 0;
  } else {
    a0 = load<u64>(STATE, 0) ^ load<u64>(block, 0);
    a1 = load<u64>(STATE, 8) ^ load<u64>(block, 8);
    a2 = load<u64>(STATE, 16) ^ load<u64>(block, 16);
    a3 = load<u64>(STATE, 24) ^ load<u64>(block, 24);
    a4 = load<u64>(STATE, 32) ^ load<u64>(block, 32);
    a5 = load<u64>(STATE, 40) ^ load<u64>(block, 40);
    a6 = load<u64>(STATE, 48) ^ load<u64>(block, 48);
    a7 = load<u64>(STATE, 56) ^ load<u64>(block, 56);
    a8 = load<u64>(STATE, 64) ^ load<u64>(block, 64);
    a9 = load<u64>(STATE, 72) ^ load<u64>(block, 72);
    a10 = load<u64>(STATE, 80) ^ load<u64>(block, 80);
    a11 = load<u64>(STATE, 88) ^ load<u64>(block, 88);
    a12 = load<u64>(STATE, 96) ^ load<u64>(block, 96);
    a13 = load<u64>(STATE, 104) ^ load<u64>(block, 104);
    a14 = load<u64>(STATE, 112) ^ load<u64>(block, 112);
    a15 = load<u64>(STATE, 120) ^ load<u64>(block, 120);
    a16 = load<u64>(STATE, 128) ^ load<u64>(block, 128);
    a17 = load<u64>(STATE, 136);
    a18 = load<u64>(STATE, 144);
    a19 = load<u64>(STATE, 152);
    a20 = load<u64>(STATE, 160);
    a21 = load<u64>(STATE, 168);
    a22 = load<u64>(STATE, 176);
    a23 = load<u64>(STATE, 184);
    a24 = load<u64>(STATE, 192);
  }
  for (let round: usize = 0; round < 24; round++) {
    // θ: column parities c, then d[x] = c[x − 1] ^ rotl(c[x + 1], 1) added to every lane of column x.
    // ρ and π fused with it: b[y, 2x + 3y] = rotl(a[x, y] ^ d[x], r[x, y]), r from the (t+1)(t+2)/2 walk.
    // χ: a[x, y] = b[x, y] ^ (~b[x + 1, y] & b[x + 2, y]).  ι: a[0, 0] ^= RC[round].
    const c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
    const c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
    const c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
    const c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
    const c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
    const d0 = c4 ^ rotl<u64>(c1, 1);
    const d1 = c0 ^ rotl<u64>(c2, 1);
    const d2 = c1 ^ rotl<u64>(c3, 1);
    const d3 = c2 ^ rotl<u64>(c4, 1);
    const d4 = c3 ^ rotl<u64>(c0, 1);
    const b0 = a0 ^ d0;
    const b1 = rotl<u64>(a6 ^ d1, 44);
    const b2 = rotl<u64>(a12 ^ d2, 43);
    const b3 = rotl<u64>(a18 ^ d3, 21);
    const b4 = rotl<u64>(a24 ^ d4, 14);
    const b5 = rotl<u64>(a3 ^ d3, 28);
    const b6 = rotl<u64>(a9 ^ d4, 20);
    const b7 = rotl<u64>(a10 ^ d0, 3);
    const b8 = rotl<u64>(a16 ^ d1, 45);
    const b9 = rotl<u64>(a22 ^ d2, 61);
    const b10 = rotl<u64>(a1 ^ d1, 1);
    const b11 = rotl<u64>(a7 ^ d2, 6);
    const b12 = rotl<u64>(a13 ^ d3, 25);
    const b13 = rotl<u64>(a19 ^ d4, 8);
    const b14 = rotl<u64>(a20 ^ d0, 18);
    const b15 = rotl<u64>(a4 ^ d4, 27);
    const b16 = rotl<u64>(a5 ^ d0, 36);
    const b17 = rotl<u64>(a11 ^ d1, 10);
    const b18 = rotl<u64>(a17 ^ d2, 15);
    const b19 = rotl<u64>(a23 ^ d3, 56);
    const b20 = rotl<u64>(a2 ^ d2, 62);
    const b21 = rotl<u64>(a8 ^ d3, 55);
    const b22 = rotl<u64>(a14 ^ d4, 39);
    const b23 = rotl<u64>(a15 ^ d0, 41);
    const b24 = rotl<u64>(a21 ^ d1, 2);
    a0 = b0 ^ (~b1 & b2);
    a1 = b1 ^ (~b2 & b3);
    a2 = b2 ^ (~b3 & b4);
    a3 = b3 ^ (~b4 & b0);
    a4 = b4 ^ (~b0 & b1);
    a5 = b5 ^ (~b6 & b7);
    a6 = b6 ^ (~b7 & b8);
    a7 = b7 ^ (~b8 & b9);
    a8 = b8 ^ (~b9 & b5);
    a9 = b9 ^ (~b5 & b6);
    a10 = b10 ^ (~b11 & b12);
    a11 = b11 ^ (~b12 & b13);
    a12 = b12 ^ (~b13 & b14);
    a13 = b13 ^ (~b14 & b10);
    a14 = b14 ^ (~b10 & b11);
    a15 = b15 ^ (~b16 & b17);
    a16 = b16 ^ (~b17 & b18);
    a17 = b17 ^ (~b18 & b19);
    a18 = b18 ^ (~b19 & b15);
    a19 = b19 ^ (~b15 & b16);
    a20 = b20 ^ (~b21 & b22);
    a21 = b21 ^ (~b22 & b23);
    a22 = b22 ^ (~b23 & b24);
    a23 = b23 ^ (~b24 & b20);
    a24 = b24 ^ (~b20 & b21);
    a0 ^= load<u64>(RC + (round << 3));
  }
  if (last) {
    store<u64>(dst, a0, 0);
    store<u64>(dst, a1, 8);
    store<u64>(dst, a2, 16);
    store<u64>(dst, a3, 24);
  } else {
    store<u64>(STATE, a0, 0);
    store<u64>(STATE, a1, 8);
    store<u64>(STATE, a2, 16);
    store<u64>(STATE, a3, 24);
    store<u64>(STATE, a4, 32);
    store<u64>(STATE, a5, 40);
    store<u64>(STATE, a6, 48);
    store<u64>(STATE, a7, 56);
    store<u64>(STATE, a8, 64);
    store<u64>(STATE, a9, 72);
    store<u64>(STATE, a10, 80);
    store<u64>(STATE, a11, 88);
    store<u64>(STATE, a12, 96);
    store<u64>(STATE, a13, 104);
    store<u64>(STATE, a14, 112);
    store<u64>(STATE, a15, 120);
    store<u64>(STATE, a16, 128);
    store<u64>(STATE, a17, 136);
    store<u64>(STATE, a18, 144);
    store<u64>(STATE, a19, 152);
    store<u64>(STATE, a20, 160);
    store<u64>(STATE, a21, 168);
    store<u64>(STATE, a22, 176);
    store<u64>(STATE, a23, 184);
    store<u64>(STATE, a24, 192);
  }
  fresh = false;
}

@inline
function begin(): void {
  used = 0;
  fresh = true;
}

/** Appends `len` bytes at `src` to the message being hashed. */
function absorb(src: usize, len: usize): void {
  if (len == 0) return;
  if (used + len < RATE) {
    // The common case: the piece fits in the current block without filling it.
    memory.copy(BLOCK + used, src, len);
    used += len;
    return;
  }
  if (used != 0) {
    const take = RATE - used;
    memory.copy(BLOCK + used, src, take);
    absorbPermute(BLOCK, false, 0);
    src += take;
    len -= take;
    used = 0;
  }
  // Whole blocks straight from the source, then buffer the tail.
  while (len >= RATE) {
    absorbPermute(src, false, 0);
    src += RATE;
    len -= RATE;
  }
  if (len != 0) memory.copy(BLOCK, src, len);
  used = len;
}

/** Pads (0x01, zeros, 0x80 in the block's last byte: both in one byte when only one is left) and squeezes. */
@inline
function finish(dst: usize): void {
  memory.fill(BLOCK + used, 0, RATE - used);
  store<u8>(BLOCK + used, 0x01);
  store<u8>(BLOCK + RATE - 1, load<u8>(BLOCK + RATE - 1) | 0x80);
  absorbPermute(BLOCK, true, dst);
}

/** keccak256 of the `len` bytes at `src`, written as 32 bytes at `dst` (which may overlap the input). */
export function keccak256(src: usize, len: usize, dst: usize): void {
  begin();
  absorb(src, len);
  finish(dst);
}

/** keccak256(a ‖ b) without assembling the concatenation. */
export function keccak256Concat(a: usize, aLen: usize, b: usize, bLen: usize, dst: usize): void {
  begin();
  absorb(a, aLen);
  absorb(b, bLen);
  finish(dst);
}

/** keccak256(a ‖ b ‖ c) without assembling the concatenation. */
export function keccak256Concat3(a: usize, aLen: usize, b: usize, bLen: usize, c: usize, cLen: usize, dst: usize): void {
  begin();
  absorb(a, aLen);
  absorb(b, bLen);
  absorb(c, cLen);
  finish(dst);
}

/** `count` inputs of `len` bytes each, back to back at `src`; their digests back to back at `dst`. */
export function keccak256Batch(src: usize, len: usize, count: i32, dst: usize): void {
  for (let k = 0; k < count; k++) {
    keccak256(src, len, dst);
    src += len;
    dst += 32;
  }
}

/**
 * For benchmarks: `n` times, replaces the first 32 bytes of the `len`-byte buffer at `buf` (len ≥ 32) by the
 * keccak256 of the whole buffer. Each hash depends on the previous one, so none can be skipped.
 */
export function keccak256Chain(buf: usize, len: usize, n: i32): void {
  for (let k = 0; k < n; k++) keccak256(buf, len, buf);
}
