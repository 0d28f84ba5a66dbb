/* Float kernels for batch norm, ReLU, pooling, residual add and the losses (see
 * nn_kernels.h for shapes and conventions). Reductions accumulate in double and
 * are parallel over channels or images with static OpenMP schedules, so results do
 * not depend on timing (they do on the thread count only through oneDNN). */
#include "nn_kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/assert.h"

#define REAL float
#define FN(name) name
#include "nn_kernels_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "nn_kernels_impl.h"
#undef REAL
#undef FN
