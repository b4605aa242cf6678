/* SHA-256 (FIPS 180-4), for checking downloaded files. */
#ifndef CLTRAIN_SHA256_H
#define CLTRAIN_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  uint64_t bytes;
  unsigned char block[64];
  size_t used;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, unsigned char digest[32]);
/* Lower-case hex of a digest into out[65]. */
void sha256_hex(const unsigned char digest[32], char out[65]);
/* Digest of a whole file as hex; 0, or -1 with errno set. */
int sha256_file(const char *path, char out[65]);

#endif
