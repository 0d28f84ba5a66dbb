/* One-way channels backed by files: the "file" correlation provider.
 *
 * Offline, the dealer runs its whole walk with its links to P0 and P1 replaced by
 * writer channels (P0's file receives the setup message and every correlation,
 * P1's file only the setup message with k1D). Online, P0 and P1 attach reader
 * channels on those files as their "dealer" link and run unchanged; no dealer
 * process is needed and the offline cost is measured separately.
 *
 * File format: header {u32 magic "ARPF", u32 version, 32-byte model hash}, then
 * frames {u16 type, u16 reserved, u32 seq, u64 len, payload}. Files are created
 * with O_EXCL and mode 0600 (they hold secrets: P1's file holds k1D). A reader
 * checks magic/version (AR_ERR_FORMAT), the model hash (AR_ERR_MISMATCH), and each
 * frame's type, seq and length (AR_ERR_PROTO); a short file is AR_ERR_IO. With
 * `consume`, the reader unlinks the file as soon as it is open, so material can
 * never be replayed into a second session. Data is not encrypted: protect the
 * files like keys (they are only as safe as the file system). */
#ifndef AR_NET_FILECHAN_H
#define AR_NET_FILECHAN_H

#include <stdint.h>

#include "core/status.h"
#include "net/chan.h"

/* Create `path` (must not exist) for writing; only send is allowed. */
AR_NODISCARD int ar_filechan_create(const char *path, const uint8_t model_hash[32], struct ar_chan **out, char *err);
/* Open `path` for reading; only recv is allowed. consume = 1 unlinks it at once. */
AR_NODISCARD int ar_filechan_open(const char *path, const uint8_t model_hash[32], int consume, struct ar_chan **out,
                                  char *err);

#endif
