/* libFuzzer target: the readers of `autorep report` (src/report/inputs.c) — the
 * JSONL training/search log, the `eval --json` result, the private-inference JSON —
 * and the checkpoint summary it draws (kept ReLUs per site, channel and pixel), each
 * on an in-memory file. Byte 0 picks the reader, the rest is the file.
 * Properties: a failure is one line naming the file, with nothing left allocated; a
 * log has at least one record with increasing line numbers; pi numbers that are
 * present are non-negative; a summary's kept counts add up per site and never
 * exceed the baseline. */
#include <math.h>
#include <string.h>

#include "fuzz_util.h"
#include "report/inputs.h"

static void check_err(int rc, const char *err, const char *path) {
    if (rc != AR_OK) FZ_CHECK(fz_one_line(err) && strstr(err, path), "message '%s'", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    char path[64], err[AR_ERR_LEN] = "";
    int fd = fz_memfile(data + 1, size - 1, path);
    int rc;
    switch (data[0] % 4) {
    case 0: {
        struct ar_log lg;
        rc = ar_log_read(&lg, path, err);
        check_err(rc, err, path);
        if (rc == AR_OK) {
            FZ_CHECK(lg.n >= 1, "empty log accepted");
            for (int i = 1; i < lg.n; i++) FZ_CHECK(lg.rec[i].line > lg.rec[i - 1].line, "line order");
            for (int f = 0; f < AR_LF_COUNT; f++) (void)ar_log_has(&lg, (enum ar_log_field)f);
            ar_log_free(&lg);
        }
        break;
    }
    case 1: {
        struct ar_eval ev;
        rc = ar_eval_read(&ev, path, err);
        check_err(rc, err, path);
        if (rc == AR_OK) FZ_CHECK(!isnan(ev.top1), "eval without top1 accepted");
        break;
    }
    case 2: {
        struct ar_pi pi;
        rc = ar_pi_read(&pi, path, err);
        check_err(rc, err, path);
        if (rc == AR_OK) {
            for (int f = 0; f < AR_PI_COUNT; f++) FZ_CHECK(isnan(pi.v[f]) || pi.v[f] >= 0, "negative pi field %d", f);
            for (int l = 0; l < pi.n_layer; l++)
                for (int f = 0; f < AR_PIL_COUNT; f++) FZ_CHECK(pi.layer[l].v[f] >= 0, "negative layer field");
            ar_pi_free(&pi);
        }
        break;
    }
    default: {
        struct ar_ckpt_sum s;
        rc = ar_ckpt_summary(&s, path, err);
        if (rc != AR_OK) FZ_CHECK(fz_one_line(err), "message '%s'", err);
        if (rc == AR_OK) {
            size_t kept = 0;
            for (int i = 0; i < s.n_site; i++) {
                const struct ar_site_sum *ss = &s.site[i];
                FZ_CHECK(ss->kept <= ss->numel, "site %s keeps %zu of %zu", ss->name, ss->kept, ss->numel);
                if (ss->chan) {
                    size_t k = 0;
                    for (int c = 0; c < ss->c; c++) k += ss->chan[c];
                    FZ_CHECK(k == ss->kept, "site %s channel counts %zu != %zu", ss->name, k, ss->kept);
                }
                kept += ss->kept;
            }
            FZ_CHECK(kept == s.relu_kept && s.relu_kept <= s.relu_total, "totals");
            ar_ckpt_sum_free(&s);
        }
        break;
    }
    }
    close(fd);
    return 0;
}
