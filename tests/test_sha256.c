/* SHA-256 against the FIPS 180-4 / NIST example digests, fed whole and in odd pieces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "testutil.h"

static void digest_hex(const void *data, size_t n, size_t piece, char out[65]) {
  sha256_ctx c;
  sha256_init(&c);
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i += piece) sha256_update(&c, p + i, n - i < piece ? n - i : piece);
  unsigned char d[32];
  sha256_final(&c, d);
  sha256_hex(d, out);
}

int main(void) {
  static const struct {
    const char *msg, *hex;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
       "mnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  char hex[65];
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    size_t n = strlen(v[i].msg);
    size_t pieces[] = {n ? n : 1, 1, 7, 63, 64, 65};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
      digest_hex(v[i].msg, n, pieces[k], hex);
      CHECK(strcmp(hex, v[i].hex) == 0, "message %zu in pieces of %zu: %s", i, pieces[k], hex);
    }
  }
  /* One million 'a'. */
  char *a = malloc(1000000);
  memset(a, 'a', 1000000);
  digest_hex(a, 1000000, 4093, hex);
  CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "million a: %s", hex);
  /* The file helper agrees with the streaming one. */
  char path[] = "/tmp/cltrain_sha_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (f) {
    fwrite(a, 1, 1000000, f);
    fclose(f);
  }
  char fhex[65] = "";
  CHECK(f && sha256_file(path, fhex) == 0 && strcmp(fhex, hex) == 0, "sha256_file: %s", fhex);
  remove(path);
  free(a);
  return test_summary("test_sha256");
}
