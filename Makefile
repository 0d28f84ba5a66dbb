# autorep — one Makefile for the library, the CLI, tests, benchmarks and the demo.
#
#   make            build libautorep.a and ./autorep
#   make check      install missing Debian packages, build, run every test
#   make demo       install missing packages, build, train + replace + private inference demo
#   make bench      speed benchmarks (bench/), compared with PyTorch when installed
#   make check-asan the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make golden     regenerate tests/golden with PyTorch (needs python3-torch)

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -fopenmp -pthread -Iinclude -Isrc
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
TOOL_BIN := $(BUILD)/stcmp
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/models.o
MODELS   := $(sort $(wildcard models/*.cfg))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/bench/train_speed.d $(BUILD)/tests/tools/stcmp.d

.PHONY: all setup check check-asan demo bench golden clean fuzz

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

$(BUILD)/test_unit: $(TEST_OBJ) $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libautorep.a $(LDLIBS)

$(BUILD)/stcmp: $(BUILD)/tests/tools/stcmp.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)

setup:
	@scripts/setup.sh

# The README's test command. Installs what is missing, builds, runs unit and CLI tests.
check: setup
	@$(MAKE) --no-print-directory all $(BUILD)/test_unit $(TOOL_BIN)
	@STCMP=$(BUILD)/stcmp tests/run.sh $(BUILD)/test_unit ./autorep

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check-asan: setup
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 $(SAN)" SANLD="$(SAN)" build-asan/test_unit
	@ASAN_OPTIONS=detect_leaks=1 tests/run.sh build-asan/test_unit ""

demo: setup
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: setup
	@$(MAKE) --no-print-directory all
	@bench/run.sh

golden:
	/usr/bin/python3 tools/gen_golden.py tests/golden

clean:
	rm -rf $(BUILD) build-asan autorep

-include $(DEPS)

BENCH_BIN := $(BUILD)/bench/train_speed
$(BUILD)/bench/train_speed: $(BUILD)/bench/train_speed.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)

PI_BENCH := $(BUILD)/bench/pi_randmodel
DEPS += $(BUILD)/bench/pi_randmodel.d
$(BUILD)/bench/pi_randmodel: $(BUILD)/bench/pi_randmodel.o $(BUILD)/libautorep.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libautorep.a $(LDLIBS)
