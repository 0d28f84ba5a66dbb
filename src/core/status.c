/* Status-code names and the error-buffer helpers used across the library. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ar_status_str(int status) {
    switch (status) {
    case AR_OK: return "ok";
    case AR_ERR_IO: return "io";
    case AR_ERR_FORMAT: return "format";
    case AR_ERR_ARG: return "argument";
    case AR_ERR_NOMEM: return "out of memory";
    case AR_ERR_NET: return "network";
    case AR_ERR_PROTO: return "protocol";
    case AR_ERR_TIMEOUT: return "timeout";
    case AR_ERR_BUDGET: return "budget";
    case AR_ERR_BACKEND: return "backend";
    case AR_ERR_MISMATCH: return "mismatch";
    default: return "unknown";
    }
}

/* Messages embed names and values taken from files, peers and users: control
 * characters (a newline in a metadata value, say) become '?' so that every message
 * stays one line. */
static void one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

int ar_errf(char *err, int status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, AR_ERR_LEN, fmt, ap);
        va_end(ap);
        one_line(err);
    }
    return status;
}

int ar_errprefix(char *err, int status, const char *fmt, ...) {
    if (err) {
        char old[AR_ERR_LEN];
        memcpy(old, err, AR_ERR_LEN);
        old[AR_ERR_LEN - 1] = 0;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, AR_ERR_LEN, fmt, ap);
        va_end(ap);
        if (n < 0) n = 0;
        size_t used = (size_t)n < AR_ERR_LEN - 1 ? (size_t)n : AR_ERR_LEN - 1;
        size_t room = AR_ERR_LEN - 1 - used;
        if (room >= 2) {
            memcpy(err + used, ": ", 2);
            used += 2;
            room -= 2;
            size_t ol = strlen(old);
            if (ol > room) ol = room;
            memcpy(err + used, old, ol);
            used += ol;
        }
        err[used] = 0;
        one_line(err);
    }
    return status;
}
