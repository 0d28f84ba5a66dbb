/* Image-classification datasets held in memory as raw bytes, and the float batches
 * (normalisation + torchvision-style augmentation) built from them for training.
 *
 * Supported: MNIST and Fashion-MNIST (IDX files, raw or gzip-compressed), CIFAR-10 and
 * CIFAR-100 (the "binary version" files). Loaders validate every size and label, so a
 * damaged download gives a one-line error naming the file, never a crash. */
#ifndef AR_IO_DATA_H
#define AR_IO_DATA_H

#include <stdint.h>

#include "core/status.h"

/* Limits of the loaders (bounds on allocations driven by file contents). */
#define AR_DATASET_MAX_N 10000000            /* images per dataset */
#define AR_DATASET_MAX_SIDE 4096             /* IDX rows / cols */
#define AR_DATASET_MAX_BYTES ((uint64_t)4 << 30) /* pixel bytes per dataset */
#define AR_DATASET_DEFAULT_FASHION "/usr/share/datasets/fashion-mnist"

struct ar_dataset {
    char name[32];          /* "fashion-mnist", "mnist", "cifar10", "cifar100" */
    int n, c, h, w, classes;
    uint8_t *images;        /* (n, c, h, w) raw pixels 0..255, NCHW; 64-byte aligned */
    uint8_t *labels;        /* (n), each < classes */
};

/* Load a split of a named dataset into *ds (zeroed first; on failure left zeroed).
 *   set:   "fashion-mnist" | "mnist" | "cifar10" | "cifar100" (else AR_ERR_ARG listing them)
 *   dir:   directory with the files; NULL -> AR_DATASET_DEFAULT_FASHION for fashion-mnist,
 *          "data/<set>" otherwise
 *   train: non-zero -> training split, 0 -> test split
 * MNIST-like sets read {train,t10k}-{images-idx3,labels-idx1}-ubyte, raw or with a
 * ".gz" suffix (the raw name is preferred when both exist; gzip is detected from the
 * content, not the name). CIFAR-10 reads data_batch_1..5.bin / test_batch.bin, CIFAR-100
 * train.bin / test.bin (fine labels), from dir or from its cifar-10-batches-bin/ or
 * cifar-100-binary/ subdirectory. Errors: AR_ERR_IO for a missing file (message names
 * the path and suggests --data-dir), a read failure or a truncated file; AR_ERR_FORMAT
 * for bad magic, insane dimensions, count mismatch, trailing data, out-of-range labels,
 * corrupt gzip; AR_ERR_NOMEM. Every message names the offending file. */
int ar_dataset_load(struct ar_dataset *ds, const char *set, const char *dir, int train, char *err) AR_NODISCARD;

/* Load an MNIST-style pair of IDX files (images magic 0x00000803, labels 0x00000801,
 * raw or gzip) with labels < `classes` (1..256). Sets c = 1 and name = "idx". Same
 * checks and errors as ar_dataset_load. */
int ar_dataset_load_idx(struct ar_dataset *ds, const char *images_path, const char *labels_path, int classes,
                        char *err) AR_NODISCARD;

/* Load CIFAR binary files (n_files >= 1, concatenated in order). cifar100 == 0: records
 * of 1 label byte + 3072 pixels, classes 10; cifar100 != 0: coarse label (< 20), fine
 * label (< 100, the one kept) + 3072 pixels, classes 100. Each file must be a positive
 * multiple of the record size. Sets c=3, h=w=32, name "cifar10"/"cifar100". */
int ar_dataset_load_cifar(struct ar_dataset *ds, const char *const *paths, int n_files, int cifar100,
                          char *err) AR_NODISCARD;

/* Release the buffers and zero ds. Accepts a zeroed or failed struct. */
void ar_dataset_free(struct ar_dataset *ds);

/* Per-channel mean and population standard deviation of pixel/255 over the whole set
 * (exact pixel-value histograms, moments accumulated in double). mean and std have
 * ds->c entries. A constant channel has std 0, which ar_dataset_batch rejects. */
void ar_dataset_channel_stats(const struct ar_dataset *ds, float *mean, float *std);

struct ar_augment {
    int crop_pad; /* 0 = no random crop; p > 0 = torchvision RandomCrop(size, padding=p) */
    int hflip;    /* 1 = RandomHorizontalFlip(p=0.5) */
};

/* Build a float batch. For i in [0, n): sample i is image k = idx[i] (0 <= k < ds->n),
 * labels[i] = ds->labels[k], and out[i] (c, h, w) is
 *     ((float)pixel / 255.0f - mean[c]) / std[c]
 * after augmentation. Augmentation of a sample uses an ar_rng seeded with
 * (seed, epoch, k), so it does not depend on the batch position or thread count.
 * Draw order: crop top then crop left, each uniform in [0, 2p] (when crop_pad = p > 0),
 * then flip if uniform < 0.5 (when hflip). The crop pads p zero pixels on every side
 * (zero before normalisation, i.e. -mean/std after) then takes an h x w window at
 * (top, left); the flip mirrors the cropped image left-right. aug NULL or all-zero:
 * no augmentation. std[c] must be > 0. Parallel over images (OpenMP); no allocation. */
void ar_dataset_batch(const struct ar_dataset *ds, const int *idx, int n, const float *mean, const float *std,
                      const struct ar_augment *aug, uint64_t seed, uint64_t epoch, float *out, int32_t *labels);

/* Fill perm with a permutation of 0..n-1 that depends only on (seed, epoch):
 * Fisher-Yates driven by an ar_rng seeded with (seed, epoch, UINT64_MAX), a stream no
 * augmentation seed uses. */
void ar_shuffle(int *perm, int n, uint64_t seed, uint64_t epoch);

#endif
