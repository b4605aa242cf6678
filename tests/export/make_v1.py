#!/usr/bin/env python3
"""Rewrite a cltrain checkpoint as format version 1 wrote it: the standardisation record
(tag 10) dropped, version 1, record count, body length and FNV-1a 64 checksum fixed up.
Layout (docs in host/train/checkpoint.h): magic, u32 version, u32 records, u64 body length,
records (u32 tag, u64 length, bytes), u64 checksum of everything before it."""
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
magic, (version, count, body_len) = data[:8], struct.unpack_from("<IIQ", data, 8)
body, at, kept, n = data[24:24 + body_len], 0, b"", 0
while at < len(body):
    tag, length = struct.unpack_from("<IQ", body, at)
    if tag != 10:
        kept += body[at:at + 12 + length]
        n += 1
    at += 12 + length
out = magic + struct.pack("<IIQ", 1, n, len(kept)) + kept
h = 0xCBF29CE484222325
for b in out:
    h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
open(dst, "wb").write(out + struct.pack("<Q", h))
