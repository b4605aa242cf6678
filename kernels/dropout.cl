/* Dropout mask of one layer for one step, kept for the forward and the backward:
   mask[idx] = 1 (keep) or 0 for each of n elements (idx = row * width + column).
   Element idx takes 32-bit word idx % 4 of Philox4x32-10 at counter
   (idx / 4, layer, step low, step high) under key (seed low, seed high), and is kept when
   that word >> 8 >= threshold (threshold = round(p * 2^24), host/ops_build.c). One work
   item per counter: four elements per Philox call. */

/* Philox4x32-10 (Salmon et al. 2011), bit-identical to philox4x32 in host/rng.c, written
   with scalars and 64-bit products: the CPU compilers then vectorise it across work items
   (about 5x faster on PoCL than uint4 with mul_hi). */
__kernel void dropout_mask(const uint n, const ulong step, const uint layer, const uint seed_lo,
                           const uint seed_hi, const uint threshold, __global uchar *mask) {
  const uint j = get_global_id(0);
  if (j >= (n + 3u) / 4u) return;
  uint c0 = j, c1 = layer, c2 = (uint)step, c3 = (uint)(step >> 32), k0 = seed_lo, k1 = seed_hi;
  for (int round = 0; round < 10; round++) {
    const ulong p0 = (ulong)0xD2511F53u * c0, p1 = (ulong)0xCD9E8D57u * c2;
    const uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0, n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint)p1;
    c3 = (uint)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  const uint idx = 4u * j;
  if (idx < n) mask[idx] = (c0 >> 8) >= threshold;
  if (idx + 1u < n) mask[idx + 1u] = (c1 >> 8) >= threshold;
  if (idx + 2u < n) mask[idx + 2u] = (c2 >> 8) >= threshold;
  if (idx + 3u < n) mask[idx + 3u] = (c3 >> 8) >= threshold;
}
