/* Aligned, huge-page-advised allocation for planned tensor buffers (see mem.h). */
#include "mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_ALIGN ((size_t)2 << 20)

void *ar_alloc_big(size_t bytes) {
    if (bytes == 0) bytes = 64;
    size_t align = bytes >= (HUGE_ALIGN * 2) ? HUGE_ALIGN : 64;
    size_t size = (bytes + align - 1) / align * align;
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    if (align == HUGE_ALIGN) madvise(p, size, MADV_HUGEPAGE);
#endif
    memset(p, 0, size);
    return p;
}

void ar_free_big(void *p) { free(p); }
