/* Downloading the real JSC file (libcurl): progress, resume of a partial file with HTTP
   Range requests, SHA-256 printed and verified when given, atomic rename into place. */
#ifndef CLTRAIN_DOWNLOAD_H
#define CLTRAIN_DOWNLOAD_H

#include "base/error.h"

/* The HDF5 file MASE downloads for its "jsc" dataset (its layout: docs/FORMATS.md). */
#define JSC_DOWNLOAD_URL "https://cernbox.cern.ch/index.php/s/jvFd5MoWhGs1l5v/download"

typedef struct {
  const char *url;
  const char *sha256;  /* expected lower/upper-case hex, or NULL */
  const char *out;     /* destination; OUT.part holds the partial download */
} download_request;

/* Runs the download: 0 done (or already present), or -1 with ERR: a runtime error for a
   network / I/O failure or a checksum mismatch (the message says what to do), a usage
   error for bad input. */
int download_run(const download_request *req, error *err);

#endif
