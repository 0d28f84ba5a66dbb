# autorep — one Makefile for the library, the CLI, tests, benchmarks and the demo.
#
#   make            build libautorep.a and ./autorep
#   make check      install missing Debian packages, build, run every test
#   make demo       install missing packages, build, train + replace + private inference demo
#   make bench      speed benchmarks (bench/), compared with PyTorch when installed
#   make check-asan the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make loadtest   1000 secure inferences in one session, memory sampled (tests/load/pi_load.sh)
#   make fuzz       build the libFuzzer targets (clang) and run each FUZZ_SECONDS (fuzz/README.md)
#   make golden     regenerate tests/golden with PyTorch (needs python3-torch)

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -fopenmp -pthread -Iinclude -Isrc $(SANCC)
LDLIBS  := -ldnnl -lsodium -ljansson -lz -lm
LDFLAGS += -fopenmp -pthread $(SANLD)

# MPI is optional: built in when mpicc exists (or MPI=1), left out with MPI=0.
MPICC := $(shell command -v mpicc 2>/dev/null)
ifeq ($(MPI),)
  MPI := $(if $(MPICC),1,0)
endif
ifeq ($(MPI),1)
  CFLAGS += -DAR_HAVE_MPI $(shell mpicc --showme:compile 2>/dev/null)
  LDLIBS += $(shell mpicc --showme:link 2>/dev/null)
endif

LIB_SRC  := $(sort $(wildcard src/*/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))
TOOL_BIN := $(BUILD)/stcmp $(BUILD)/pisecret
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/models.o
MODELS   := $(sort $(wildcard models/*.cfg))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/bench/train_speed.d $(BUILD)/tests/tools/stcmp.d \
            $(BUILD)/tests/tools/pisecret.d

.PHONY: all setup check check-asan demo bench golden clean fuzz loadtest

all: autorep $(BUILD)/libautorep.a

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/models.c: $(MODELS) scripts/embed_models.sh
	@mkdir -p $(dir $@)
	scripts/embed_models.sh $(MODELS) > $@

$(BUILD)/gen/models.o: $(BUILD)/gen/models.c
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/libautorep.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

autorep: $(CLI_OBJ) $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libautorep.a $(LDLIBS)

# the CLI of another build (check-asan: build-asan/autorep)
$(BUILD)/autorep: $(CLI_OBJ) $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libautorep.a $(LDLIBS)

# cli/args.o: the regression tests check the CLI's one-line error contract
$(BUILD)/test_unit: $(TEST_OBJ) $(BUILD)/cli/args.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/cli/args.o $(BUILD)/libautorep.a $(LDLIBS)

$(BUILD)/stcmp: $(BUILD)/tests/tools/stcmp.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)

# tests/cli/pi_secrets.sh: byte and text patterns of a secure inference's secrets
$(BUILD)/pisecret: $(BUILD)/tests/tools/pisecret.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)

setup:
	@scripts/setup.sh

# The README's test command. Installs what is missing, builds, runs unit and CLI tests.
check: setup
	@$(MAKE) --no-print-directory all $(BUILD)/test_unit $(TOOL_BIN)
	@STCMP=$(BUILD)/stcmp PISECRET=$(BUILD)/pisecret tests/run.sh $(BUILD)/test_unit ./autorep

# The whole suite (unit tests, then the CLI tests with an ASan-built autorep) under
# AddressSanitizer (+ LeakSanitizer) and UndefinedBehaviorSanitizer; any report
# fails the test that triggered it. Sanitizer flags go through SANCC/SANLD, which
# are appended even when CFLAGS/LDFLAGS come from the environment. The CLI tests
# unwind malloc stacks slowly so that tests/lsan.supp can recognise OpenMPI's own
# leaks under mpirun (docs/reliability.md); the unit tests keep the fast unwinder.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_COMMON := detect_leaks=1:detect_stack_use_after_return=1
SAN_ENV := ASAN_OPTIONS=$(ASAN_COMMON) CLI_ASAN_OPTIONS=$(ASAN_COMMON):fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1
check-asan: setup
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1" SANCC="$(SAN)" SANLD="$(SAN)" \
	    build-asan/test_unit build-asan/autorep build-asan/stcmp build-asan/pisecret
	@$(SAN_ENV) STCMP=build-asan/stcmp PISECRET=build-asan/pisecret tests/run.sh build-asan/test_unit build-asan/autorep

# 1000 sequential secure inferences of cnn_small in one session, RSS sampled
# (tests/load/pi_load.sh; about 1.5 min; LOAD_N=N for another count)
loadtest: setup
	@$(MAKE) --no-print-directory all
	@tests/load/pi_load.sh ./autorep

demo: setup
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: setup
	@$(MAKE) --no-print-directory all
	@bench/run.sh

golden:
	/usr/bin/python3 tools/gen_golden.py tests/golden

# ---- fuzzing (fuzz/README.md): libFuzzer targets built with clang + ASan + UBSan ----
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_DIR     := build-fuzz
FUZZ_NAMES   := $(patsubst fuzz/%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
FUZZ_CFLAGS   = -O1 -g -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Isrc -Icli -I$(FUZZ_DIR)/gen $(FUZZ_SAN)
FUZZ_LIBS    := -ldnnl -lsodium -ljansson -lz -lm -pthread

.PHONY: fuzz-build
fuzz-build:
	@scripts/setup.sh --fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

# The library with coverage instrumentation (fuzzer-no-link) and the sanitizers, no MPI
# (a nested make of this Makefile with BUILD=build-fuzz builds it).
ifneq ($(BUILD),$(FUZZ_DIR))
$(FUZZ_DIR)/libautorep.a: FORCE
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) MPI=0 OPT="-O1 -Wno-pass-failed" \
	    SANCC="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_DIR)/libautorep.a
endif

# The CLI option tables, extracted from cli/*.c so the args target fuzzes the real ones.
$(FUZZ_DIR)/gen/cli_tables.h: $(CLI_SRC) fuzz/gen_cli_tables.sh
	@mkdir -p $(dir $@)
	fuzz/gen_cli_tables.sh $(CLI_SRC) > $@

$(FUZZ_DIR)/fuzz_args: fuzz/fuzz_args.c cli/args.c $(FUZZ_DIR)/gen/cli_tables.h fuzz/fuzz_util.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ fuzz/fuzz_args.c cli/args.c

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h fuzz/mpc_walk.h $(FUZZ_DIR)/libautorep.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -fopenmp -o $@ $< $(FUZZ_DIR)/libautorep.a $(FUZZ_LIBS)

# Run every target (or FUZZ_TARGETS) for FUZZ_SECONDS on one core: the committed seeds
# in fuzz/corpus/T plus what earlier runs found (build-fuzz/corpus/T). Crash inputs
# land in build-fuzz/crashes/; the first crash stops the run with a non-zero exit.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes; \
	    opts=""; [ -f fuzz/$$t.options ] && opts=$$(cat fuzz/$$t.options); \
	    [ -f fuzz/$$t.dict ] && opts="$$opts -dict=fuzz/$$t.dict"; \
	    echo "== $$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=30 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- $$opts $(FUZZ_FLAGS) \
	        $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t 2> $(FUZZ_DIR)/$$t.log \
	        || { tail -n 60 $(FUZZ_DIR)/$$t.log; echo "$$t: FAILED (input in $(FUZZ_DIR)/crashes/)"; exit 1; }; \
	    grep -E "stat::number_of_executed_units|cov:" $(FUZZ_DIR)/$$t.log | tail -n 2; \
	done

# Regenerate the committed seed corpora (fuzz/gen_seeds.c) with the normal build.
.PHONY: fuzz-seeds
fuzz-seeds: $(BUILD)/fuzz_gen_seeds
	$(BUILD)/fuzz_gen_seeds fuzz/corpus

$(BUILD)/fuzz_gen_seeds: fuzz/gen_seeds.c fuzz/mpc_walk.h $(BUILD)/libautorep.a
	$(CC) $(CFLAGS) -Ifuzz -o $@ $< $(BUILD)/libautorep.a $(LDFLAGS) $(LDLIBS)

.PHONY: FORCE
FORCE:

clean:
	rm -rf $(BUILD) build-asan build-fuzz autorep

-include $(DEPS)

BENCH_BIN := $(BUILD)/bench/train_speed
$(BUILD)/bench/train_speed: $(BUILD)/bench/train_speed.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)
# inference speed: the same program, --infer by default
$(BUILD)/bench/infer_speed: $(BUILD)/bench/train_speed
	ln -sf train_speed $@

PI_BENCH := $(BUILD)/bench/pi_randmodel
DEPS += $(BUILD)/bench/pi_randmodel.d
$(BUILD)/bench/pi_randmodel: $(BUILD)/bench/pi_randmodel.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)
