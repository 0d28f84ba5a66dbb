/* AR_ASSERT: programmer-error checks that stay on in every build (unlike assert()).
 * A failure prints file:line and the expression, then aborts. Use it only for
 * conditions that a correct caller can never trigger; anything a file, a user or a
 * peer can cause must be a status code instead (core/status.h). */
#ifndef AR_ASSERT_H
#define AR_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define AR_ASSERT(x)                                                           \
    do {                                                                       \
        if (!(x)) {                                                            \
            fprintf(stderr, "%s:%d: AR_ASSERT(%s) failed\n", __FILE__, __LINE__, #x); \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
