/* Dropout mask of one layer for one step, kept for the forward and the backward:
   mask[idx] = 1 (keep) or 0 for each of n elements (idx = row * width + column).
   Element idx takes 32-bit word idx % 4 of Philox4x32-10 at counter
   (idx / 4, layer, step low, step high) under key (seed low, seed high), and is kept when
   that word >> 8 >= threshold (threshold = round(p * 2^24), host/ops_build.c).

   Philox4x32-10 (Salmon et al. 2011), bit-identical to philox4x32 in host/rng.c. Each
   work-item runs eight counters in ulong8 vectors (32 x 32 -> 64-bit products give the
   high and low words), so a CPU computes them in SIMD lanes without relying on
   vectorisation across work-items: 32 mask bytes per item. (Two interleaved chains per
   item, or the ten rounds unrolled, ran slower on PoCL.) */
#include "abi_quiet.cl"

/* DROP_PER_ITEM (mask bytes per work-item: eight counters) comes from the host
   (OPS_DROP_PER_ITEM, host/ops/ops.h) as -D. */
#if DROP_PER_ITEM != 32
#error "the mask kernel runs eight Philox counters (32 bytes) per work-item"
#endif

/* Ten rounds of Philox4x32-10 on eight counters under key (k0, k1). The 32-bit words live
   in 64-bit lanes whose upper halves stay zero, so each product is one 32 x 32 -> 64-bit
   vector multiply (no widening or narrowing conversions per round). */
inline void philox8(ulong8 *c0, ulong8 *c1, ulong8 *c2, ulong8 *c3, uint k0, uint k1) {
  const ulong8 low = (ulong8)(0xFFFFFFFFu);
  for (int round = 0; round < 10; round++) {
    /* the masks are no-ops that tell the compiler the factors fit in 32 bits */
    const ulong8 p0 = (*c0 & low) * (ulong8)(0xD2511F53u);
    const ulong8 p1 = (*c2 & low) * (ulong8)(0xCD9E8D57u);
    const ulong8 n0 = (p1 >> 32) ^ *c1 ^ (ulong8)(k0);
    const ulong8 n2 = (p0 >> 32) ^ *c3 ^ (ulong8)(k1);
    *c1 = p1 & low;
    *c3 = p0 & low;
    *c0 = n0;
    *c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

/* 1 (keep) or 0 per word: word >> 8 >= threshold. Written as select() on the comparison's
   0 / -1 lanes, not as (comparison & 1): clang folds the latter into a zero extension of
   the <8 x i1> comparison, which Oclgrind 21.10's interpreter gets wrong (0xff per lane,
   partly uninitialised), so every mask it made differed from the C reference. */
inline ulong8 keep_bits(const ulong8 c, const ulong8 t) {
  return select((ulong8)(0), (ulong8)(1), (c >> 8) >= t);
}

/* Store the mask bytes of eight counters from counter `first` (global element 4 * first):
   global element g = 4 * (first + q) + w is word w of counter first + q, and goes to
   mask[g - offset] when offset <= g < end (a data-parallel rank's share of the global batch
   starts at element `offset`; one process has offset 0). On a little-endian device with
   the share starting on a counter boundary, one 32-bit word per counter holds its four
   bytes in order; elsewhere (or with -D DROP_BYTEWISE, which the tests use to cover this
   path) the bytes are stored one by one. */
inline void store_mask8(const ulong8 c0, const ulong8 c1, const ulong8 c2, const ulong8 c3,
                        const ulong8 t, const uint offset, const uint end, const uint base,
                        __global uchar *mask) {
#if defined(__ENDIAN_LITTLE__) && !defined(DROP_BYTEWISE)
  if (offset % 4u == 0u) {
    const uint8 words = convert_uint8(keep_bits(c0, t) | keep_bits(c1, t) << 8 | keep_bits(c2, t) << 16 |
                                      keep_bits(c3, t) << 24);
    if (base + 32u <= end) {
      vstore8(words, 0, (__global uint *)(mask + (base - offset)));
      return;
    }
    uint tmp[8];
    vstore8(words, 0, tmp);
    for (uint e = 0; base + e < end; e++) mask[base + e - offset] = (uchar)(tmp[e / 4] >> (8 * (e % 4)));
    return;
  }
#endif
  ulong tmp[4][8];
  vstore8(keep_bits(c0, t), 0, tmp[0]);
  vstore8(keep_bits(c1, t), 0, tmp[1]);
  vstore8(keep_bits(c2, t), 0, tmp[2]);
  vstore8(keep_bits(c3, t), 0, tmp[3]);
  for (uint e = 0; e < 32u && base + e < end; e++)
    if (base + e >= offset) mask[base + e - offset] = (uchar)tmp[e % 4][e / 4];
}

/* n mask bytes for the global elements offset .. offset + n - 1 (offset: where this
   process's rows start in the global batch, times the width; 0 for one process). */
__kernel void dropout_mask(const uint n, const uint offset, const ulong step, const uint layer,
                           const uint seed_lo, const uint seed_hi, const uint threshold,
                           __global uchar *mask) {
  const uint first = offset / 4u + get_global_id(0) * 8u; /* first counter of this item */
  if (4u * first >= offset + n) return;
  const ulong8 lanes = (ulong8)(0, 1, 2, 3, 4, 5, 6, 7), t = (ulong8)(threshold);
  const ulong8 c1 = (ulong8)(layer), c2 = (ulong8)((uint)step), c3 = (ulong8)((uint)(step >> 32));
  ulong8 a0 = (ulong8)(first) + lanes, a1 = c1, a2 = c2, a3 = c3;
  philox8(&a0, &a1, &a2, &a3, seed_lo, seed_hi);
  store_mask8(a0, a1, a2, a3, t, offset, offset + n, 4u * first, mask);
}
