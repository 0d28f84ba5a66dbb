/* Secure two-party inference protocols over additive shares in Z_2^64.
 *
 * Conventions for every function here:
 *   - All three roles call it, in the same order, with the same public arguments
 *     (layer id, shapes, counts, masks, coefficients). Share buffers are the
 *     caller's party's shares: x = x0 + x1 (mod 2^64) with x0 at P0 and x1 at P1.
 *     The dealer passes NULL for every share/secret buffer: it only produces the
 *     correlations the call needs.
 *   - `layer` is an executor-chosen id used for PRG labels, the dealer tags and the
 *     measurement records (mpc/party.h); use a distinct id per layer, and the same id
 *     for that layer in every inference of the session.
 *   - Vectorised: each call is a fixed number of messages whatever n is; every step
 *     is one message per direction for the whole tensor.
 *   - Values are fixed point with p->frac_bits fractional bits unless stated.
 *   - Return AR_OK or a negative status with a message in err; on error the session
 *     is unusable (channels are failed).
 * Costs: mpc/cost.h. Algebra and security argument: docs/protocols.md. */
#ifndef AR_MPC_PROTO_H
#define AR_MPC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "kernels/ring.h"
#include "mpc/dealer.h"
#include "mpc/party.h"

/* ---- inputs and outputs (no dealer involvement) ------------------------------------ */

/* Share a value owned by `owner` (AR_ROLE_P0 or AR_ROLE_P1) at zero communication:
 * the other party's share is a k01 stream, the owner's is x - stream.
 * x: (n) at the owner (NULL elsewhere)  share: (n) output at P0 and P1. */
AR_NODISCARD int ar_mpc_share_input(struct ar_party *p, int owner, uint32_t layer, size_t n, const uint64_t *x,
                                    uint64_t *share, char *err);

/* Reveal to P1 only: P0 sends its share (one-way, 8n bytes).
 * share: (n) at P0 and P1   out: (n) plaintext at P1 (may alias share); unused at P0. */
AR_NODISCARD int ar_mpc_reveal_p1(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *share,
                                  uint64_t *out, char *err);

/* ---- linear layers: conv / FC by weight-mask reuse --------------------------------- */

/* One-time per model and layer: P0 sends F = W - B to P1, where B is a mask derived
 * from k0D that the dealer also knows. Calling it twice for one layer id fails
 * (the mask would be reused for other weights).
 * w: (OC, C, KH, KW) ring weights at P0 (NULL elsewhere)
 * f: (OC, C, KH, KW) output at P1 (kept by the executor for every inference). */
AR_NODISCARD int ar_mpc_linear_setup(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s,
                                     const uint64_t *w, uint64_t *f, char *err);

/* Input-independent part of one linear call, prepared ahead of the query:
 * P1: the correlation (A1) and y1 = conv(A1, F) + C1; P0: C0 from the dealer;
 * dealer: generates and sends C0. Optional (ar_mpc_linear does it inline when
 * given pre = NULL), but when used, all three roles must call it at the same point
 * of their call sequence, and the result must be consumed by exactly one
 * ar_mpc_linear of the same layer. */
struct ar_linear_pre {
    struct ar_corr corr; /* the LINEAR correlation: A1, C1 at P1; C0 at P0 */
    uint64_t *y1;        /* P1: conv(A1, F) + C1, (N, OC, OH, OW) */
    size_t n_out;
    uint32_t layer;
    int ready;
};

/* f: (OC, C, KH, KW) at P1 (NULL elsewhere). */
AR_NODISCARD int ar_mpc_linear_pre(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s,
                                   const uint64_t *f, struct ar_linear_pre *pre, char *err);
/* Free an unused (or used) preparation. Accepts a zeroed struct. */
void ar_linear_pre_free(struct ar_linear_pre *pre);

/* y = conv(x, W) + bias, then each party truncates its share locally by trunc_bits
 * (0 = no truncation; with x and W at scale f the product has scale 2f).
 * Algebra (dealer: A1, C1 seeded from k1D, B from k0D, sends C0 = conv(A1, B) - C1):
 *   1. P1 sends M = x1 - A1 to P0                              (one-way, 8 B per input element)
 *   2. P0: E = x0 + M = x - A1;  y0 = conv(E, W) + C0 + bias
 *      P1: y1 = conv(A1, F) + C1
 *   y0 + y1 = conv(x - A1, W) + conv(A1, W - B) + conv(A1, B) = conv(x, W).
 * First layer: P0 passes x = NULL (its share is zero: the input is wholly P1's).
 * s: geometry (N, C, H, W, OC, KH, KW, stride, pad); FC is H = W = KH = KW = 1.
 * w: at P0   f: at P1 (from ar_mpc_linear_setup)
 * bias: (OC) at P0 or NULL, at the scale of conv(x, W) (2f when x and W are at f)
 * x: (N, C, H, W) share   y: (N, OC, OH, OW) share
 * pre: from ar_mpc_linear_pre (consumed), or NULL to do that step inline. */
AR_NODISCARD int ar_mpc_linear(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s,
                               const uint64_t *w, const uint64_t *f, const uint64_t *bias, const uint64_t *x,
                               uint64_t *y, int trunc_bits, struct ar_linear_pre *pre, char *err);

/* ---- activations -------------------------------------------------------------------- */

/* Quadratic with public per-channel coefficients (all-poly site):
 *   y = c2 * x^2 + c1 * x + c0   computed as  t = trunc(x^2), y = trunc(c2*t + c1*x + c0 << f)
 * x, y: (N, C, HW) shares   coef: (C, 3) = {c2, c1, c0} at scale f (public, all roles).
 * Result equals ar_ring_poly_ref up to ceil(|c2|/2^f) + 1 LSB (two local truncations).
 * 1 round, 8 B per element each way. */
AR_NODISCARD int ar_mpc_poly(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW,
                             const uint64_t *coef, const uint64_t *x, uint64_t *y, char *err);

/* y = max(x, 0), exact. drelu (optional): ceil(n/64) words of XOR shares of [x >= 0].
 * 8 rounds, 8n + 244*ceil(n/8) bytes each way. */
AR_NODISCARD int ar_mpc_relu(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *x, uint64_t *y,
                             uint64_t *drelu, char *err);

/* Mixed AutoReP site: element i of every image is a ReLU where mask[i] = 1 and the
 * channel's quadratic where mask[i] = 0. The ReLU positions are gathered into one
 * dense ReLU; the quadratic's opening rides in the ReLU's first message, so the site
 * costs 8 rounds when any ReLU remains and 1 round when none does.
 * x, y: (N, C, HW) shares   mask: (C*HW) public, 0/1   coef: (C, 3) public. */
AR_NODISCARD int ar_mpc_act(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW,
                            const uint8_t *mask, const uint64_t *coef, const uint64_t *x, uint64_t *y, char *err);

/* Offline half of a mixed site whose input share at P1 is known before the query
 * (e.g. P1's share of a linear layer's output, which is conv(A1, F) + C1): takes the
 * square pair now, and P1 sends its half of the quadratics' opening (x1 - r1 at the
 * mask-0 positions, image-major) to P0 one-way (8 B per quadratic, offline). All
 * roles call it at the same point of their sequence; x1: (N, C, HW) P1's input
 * share (NULL elsewhere). Consumed by exactly one ar_mpc_act_with_pre. */
struct ar_act_pre {
    struct ar_corr sq;
    uint64_t *open1; /* x1 - r1 at the quadratic positions (P1: sent; P0: received) */
    size_t n_p;
    uint32_t layer;
    int ready;
};
AR_NODISCARD int ar_mpc_act_pre(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW,
                                const uint8_t *mask, const uint64_t *x1, struct ar_act_pre *pre, char *err);
/* ar_mpc_act with the offline half done (pre, consumed; NULL = ar_mpc_act): online
 * only P0 sends its half of the quadratics' opening (8 B per quadratic one way),
 * in the ReLU's first message, or as one one-way message when the site has no ReLU.
 * x must be the same share P1 passed to ar_mpc_act_pre. */
AR_NODISCARD int ar_mpc_act_with_pre(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW,
                                     const uint8_t *mask, const uint64_t *coef, const uint64_t *x, uint64_t *y,
                                     struct ar_act_pre *pre, char *err);
void ar_act_pre_free(struct ar_act_pre *pre);

/* Max pool (k x k windows, stride) by a tournament of ReLU(a - b) + b: ceil(log2 k^2)
 * ReLU layers. x: (N, C, H, W) share   y: (N, C, OH, OW) share. */
AR_NODISCARD int ar_mpc_maxpool(struct ar_party *p, uint32_t layer, int N, int C, int H, int W, int k, int stride,
                                const uint64_t *x, uint64_t *y, char *err);

#ifdef AR_MPC_DEBUG_REVEAL
/* DEBUG ONLY (compiled in only with -DAR_MPC_DEBUG_REVEAL, never in normal or
 * network builds): both parties exchange their shares and learn the plaintext, for
 * a validate mode that diffs every layer against the plaintext executor.
 * share: (n) at P0 and P1   out: (n) plaintext at P0 and P1. No-op at the dealer. */
AR_NODISCARD int ar_mpc_debug_open(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *share,
                                   uint64_t *out, char *err);
#endif

/* ---- local operations (no communication; no-ops at the dealer) ------------------------ */

/* SecureML local truncation of shares by `bits`: result = sar(x, bits) + {0, 1}
 * except with probability ~ 2^(lx+1-64) for |x| < 2^lx. */
void ar_mpc_trunc(const struct ar_party *p, uint64_t *x, size_t n, int bits);
/* out = a + b (residual add). */
void ar_mpc_add(const struct ar_party *p, uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n);
/* x += c for a public constant vector (P0 adds, P1 does nothing). */
void ar_mpc_add_public(const struct ar_party *p, uint64_t *x, const uint64_t *c, size_t n);
/* Sum pooling (avg-pool with 1/k^2 folded into the next layer): see ar_ring_sumpool2d. */
void ar_mpc_sumpool(const struct ar_party *p, uint64_t *out, const uint64_t *in, int N, int C, int H, int W, int k,
                    int stride);

#endif
