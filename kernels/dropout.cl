/* Dropout mask of one layer for one step, kept for the forward and the backward:
   mask[idx] = 1 (keep) or 0 for each of n elements (idx = row * width + column).
   Element idx takes 32-bit word idx % 4 of Philox4x32-10 at counter
   (idx / 4, layer, step low, step high) under key (seed low, seed high), and is kept when
   that word >> 8 >= threshold (threshold = round(p * 2^24), host/ops_build.c).

   Philox4x32-10 (Salmon et al. 2011), bit-identical to philox4x32 in host/rng.c. Each
   work-item runs eight counters at once in uint8/ulong8 vectors (64-bit products give the
   high and low words), so a CPU computes them in SIMD lanes without relying on
   vectorisation across work-items: 32 mask bytes per item, stored as two 16-byte vectors
   (on PoCL 1.7x faster than one scalar counter per item). */
#define DROP_PER_ITEM 32u

__kernel void dropout_mask(const uint n, const ulong step, const uint layer, const uint seed_lo,
                           const uint seed_hi, const uint threshold, __global uchar *mask) {
  const uint first = get_global_id(0) * 8u; /* first counter of this item */
  const uint base = 4u * first;             /* its first element */
  if (base >= n) return;
  uint8 c0 = (uint8)(first) + (uint8)(0, 1, 2, 3, 4, 5, 6, 7);
  uint8 c1 = (uint8)(layer), c2 = (uint8)((uint)step), c3 = (uint8)((uint)(step >> 32));
  uint k0 = seed_lo, k1 = seed_hi;
  for (int round = 0; round < 10; round++) {
    const ulong8 p0 = convert_ulong8(c0) * (ulong8)(0xD2511F53u);
    const ulong8 p1 = convert_ulong8(c2) * (ulong8)(0xCD9E8D57u);
    const uint8 n0 = convert_uint8(p1 >> 32) ^ c1 ^ (uint8)(k0);
    const uint8 n2 = convert_uint8(p0 >> 32) ^ c3 ^ (uint8)(k1);
    c1 = convert_uint8(p1);
    c3 = convert_uint8(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  /* relational results are 0 or -1 per lane; & 1 makes them 0 or 1 */
  const uint8 t = (uint8)(threshold);
  const uchar8 m0 = convert_uchar8((c0 >> 8) >= t), m1 = convert_uchar8((c1 >> 8) >= t);
  const uchar8 m2 = convert_uchar8((c2 >> 8) >= t), m3 = convert_uchar8((c3 >> 8) >= t);
  /* element 4 * (first + q) + w is word w of counter first + q */
  const uchar16 lo = (uchar16)(m0.s0, m1.s0, m2.s0, m3.s0, m0.s1, m1.s1, m2.s1, m3.s1, m0.s2, m1.s2, m2.s2,
                               m3.s2, m0.s3, m1.s3, m2.s3, m3.s3) & (uchar16)(1);
  const uchar16 hi = (uchar16)(m0.s4, m1.s4, m2.s4, m3.s4, m0.s5, m1.s5, m2.s5, m3.s5, m0.s6, m1.s6, m2.s6,
                               m3.s6, m0.s7, m1.s7, m2.s7, m3.s7) & (uchar16)(1);
  if (base + DROP_PER_ITEM <= n) {
    vstore16(lo, 0, mask + base);
    vstore16(hi, 0, mask + base + 16u);
  } else { /* the tail of the mask */
    uchar tmp[DROP_PER_ITEM];
    vstore16(lo, 0, tmp);
    vstore16(hi, 0, tmp + 16);
    for (uint e = 0; base + e < n; e++) mask[base + e] = tmp[e];
  }
}
