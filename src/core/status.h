/* Status codes and error buffers for everything the environment can cause.
 *
 * Convention (see docs/design.md): a fallible function returns `int` — AR_OK (0)
 * or a negative AR_ERR_* — and writes a one-line, human-readable message into a
 * caller-provided `char err[AR_ERR_LEN]` (which may be NULL). Programmer errors are
 * not statuses: they are AR_ASSERT failures (core/assert.h). The library never
 * calls exit(). */
#ifndef AR_STATUS_H
#define AR_STATUS_H

#include <stddef.h>

#define AR_ERR_LEN 512

enum ar_status {
    AR_OK = 0,
    AR_ERR_IO = -1,      /* open/read/write/rename failed, or file truncated */
    AR_ERR_FORMAT = -2,  /* file contents are malformed (bad magic, bad JSON, bad shape) */
    AR_ERR_ARG = -3,     /* bad argument or configuration value from the user */
    AR_ERR_NOMEM = -4,   /* allocation failed */
    AR_ERR_NET = -5,     /* socket error or peer closed */
    AR_ERR_PROTO = -6,   /* peer sent something the protocol does not allow */
    AR_ERR_TIMEOUT = -7, /* a peer or operation did not answer in time */
    AR_ERR_BUDGET = -8,  /* no result satisfies the ReLU budget */
    AR_ERR_BACKEND = -9, /* oneDNN / libsodium / MPI reported a failure */
    AR_ERR_MISMATCH = -10 /* two parties / files disagree (model hash, shape) */
};

#if defined(__GNUC__)
#define AR_NODISCARD __attribute__((warn_unused_result))
#define AR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AR_NODISCARD
#define AR_PRINTF(a, b)
#endif

/* Name of a status code ("io", "format", ...). Never NULL. */
const char *ar_status_str(int status);

/* Format a message into err (if err != NULL) and return `status`, so callers can
 * write `return ar_errf(err, AR_ERR_IO, "%s: %s", path, strerror(errno));`. */
int ar_errf(char *err, int status, const char *fmt, ...) AR_PRINTF(3, 4);

/* Prefix an existing message in err with "prefix: " (used to add context such as
 * a file name while an error propagates up). Returns `status`. */
int ar_errprefix(char *err, int status, const char *fmt, ...) AR_PRINTF(3, 4);

/* Jump to the function's `fail:` label when expr returns a non-OK status; the
 * function must declare `int rc`. */
#define AR_TRY(expr)                       \
    do {                                   \
        if ((rc = (expr)) != AR_OK) goto fail; \
    } while (0)

#endif
