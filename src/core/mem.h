/* Big-buffer allocation: 64-byte aligned (2 MiB aligned and MADV_HUGEPAGE for
 * buffers of 4 MiB or more, because first-touch page faults are expensive on these
 * machines). Buffers are planned once and reused; nothing here is called in a
 * training step. */
#ifndef AR_MEM_H
#define AR_MEM_H

#include <stddef.h>

/* Returns zero-filled memory of `bytes` (rounded up), or NULL. Free with ar_free_big. */
void *ar_alloc_big(size_t bytes);
void ar_free_big(void *p);

#endif
