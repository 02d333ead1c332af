# ueajc - a tensor-expression compiler.  Plain, strict Makefile.
#
#   make            build build/ueajc
#   make check      install missing packages, build, run every test
#   make check-asan the unit and CLI tests under AddressSanitizer + UBSan
#   make run        chat with the embedded default, SmolLM2-135M-Instruct (see README)
#   make demo       the compiler on models/llama.ue with a tiny config: IR, a kernel, a run
#   make fuzz       libFuzzer builds of tests/fuzz/fuzz_*.c in build-fuzz/ (clang); run them
#                   with tools/fuzz.sh.  make check replays their corpora (tests/fuzz/corpus)
#   make gpu-check  on a machine with an NVIDIA GPU: NVRTC, the CUDA plan vs the C backend,
#                   Llama-3.2-1B-shape timings (tools/gpu_check.sh; log in $OUT/gpu_check.log)
#   make clean
#
# Sources are found by wildcard: compiler/*.c (compiler/main.c is the CLI),
# runtime/*.c, tests/test_*.c (one Check suite each, registered
# automatically from their `Suite *suite_NAME(void)` definitions).

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN) -MMD -MP \
           -Icompiler -Iruntime -I$(BUILD)/gen $(CFLAGS)
LDLIBS_ALL = $(SAN) -lcjson -lpcre2-8 -lcurl -ldl -lm -lpthread $(LDLIBS)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -pthread)
ifeq ($(V),1)
Q =
else
Q = @
endif

GEN      = $(BUILD)/gen
LIB_SRC  = $(filter-out compiler/main.c,$(wildcard compiler/*.c)) $(wildcard runtime/*.c)
GEN_SRC  = $(GEN)/lexer.c $(GEN)/parser.c $(GEN)/templates.c $(GEN)/models.c
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_SRC:$(GEN)/%.c=$(BUILD)/gen/%.o)
TEST_SRC = $(wildcard tests/test_*.c) $(wildcard tests/support_*.c) tests/check_main.c
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/replay_%)
FAKES    = $(patsubst tests/cuda_fakes/%.c,$(BUILD)/fakes/%.so,$(wildcard tests/cuda_fakes/*.c))
TEMPLATES = $(sort $(wildcard templates/*.in))
MODELS   = $(sort $(wildcard models/*.ue))

all: $(BUILD)/ueajc

$(BUILD)/ueajc: $(BUILD)/compiler/main.o $(BUILD)/libueajc.a
	@echo "  LD     $@"
	$(Q)$(CC) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/libueajc.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/check_ueajc: $(TEST_OBJ) $(BUILD)/libueajc.a
	@echo "  LD     $@"
	$(Q)$(CC) -o $@ $^ $(CHECK_LIBS) $(LDLIBS_ALL)

# Fuzz targets: with tests/fuzz/replay_main.c, the replayers make check runs over
# tests/fuzz/corpus/NAME/; with clang's libFuzzer (make fuzz), the fuzzers.
$(BUILD)/fuzz/replay_%: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/libueajc.a
	@mkdir -p $(dir $@)
	@echo "  LD     $@"
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ tests/fuzz/$*.c tests/fuzz/replay_main.c $(BUILD)/libueajc.a $(LDLIBS_ALL)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libueajc.a
	@mkdir -p $(dir $@)
	@echo "  LD     $@"
	$(Q)$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/libueajc.a $(LDLIBS_ALL)
FUZZ_BUILD ?= build-fuzz
fuzz:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	    $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/fuzz/%)

# Fake libcuda libraries for tests/test_cuda_api.c (backend selection without a GPU),
# and the nvcc-made cubin of tests/fixtures/cuda/plan.cu for tests/test_cuda_plan.c
# (built, never committed; without nvcc the test says it skipped).
NVCC ?= /usr/local/cuda/bin/nvcc
fakes: $(FAKES) $(BUILD)/fixtures/plan.cubin
$(BUILD)/fixtures/plan.cubin: tests/fixtures/cuda/plan.cu
	@mkdir -p $(dir $@)
	$(Q)if [ -x "$(NVCC)" ] || command -v "$(NVCC)" >/dev/null 2>&1; then \
	    echo "  NVCC   $@"; "$(NVCC)" -cubin -arch=sm_90 -o $@ $<; \
	else echo "  (no nvcc at $(NVCC): $@ not made, its test skips)"; fi
$(BUILD)/fakes/%.so: tests/cuda_fakes/%.c tests/cuda_fakes/fake_driver.h runtime/cuda_api.h
	@mkdir -p $(dir $@)
	@echo "  CC     $@"
	$(Q)$(CC) -std=c11 -O1 -Wall -Wextra -shared -fPIC -Iruntime -o $@ $<

# Generated sources: never committed, always rebuilt from grammar/ and templates/.
$(GEN)/lexer.c: grammar/lexer.re $(GEN)/parser.h
	@mkdir -p $(GEN)
	@echo "  RE2C   $<"
	$(Q)re2c -W --no-generation-date -o $@ $<

$(GEN)/parser.c $(GEN)/parser.h: grammar/parser.y
	@mkdir -p $(GEN)
	@echo "  BISON  $<"
	$(Q)bison -Wall --defines=$(GEN)/parser.h -o $(GEN)/parser.c $<

$(GEN)/templates.c: $(TEMPLATES) tools/embed.sh
	@mkdir -p $(GEN)
	$(Q)sh tools/embed.sh tmpl $(TEMPLATES) > $@

$(GEN)/models.c: $(MODELS) tools/embed.sh
	@mkdir -p $(GEN)
	$(Q)sh tools/embed.sh model $(MODELS) > $@

$(GEN)/suites.h: $(wildcard tests/test_*.c)
	@mkdir -p $(GEN)
	$(Q)grep -ho '^Suite \*suite_[a-z0-9_]*(void)' $^ | sed 's/^Suite \*\(suite_[a-z0-9_]*\)(void)/X(\1)/' | sort -u > $@

$(BUILD)/tests/check_main.o: $(GEN)/suites.h

# Objects.  Everything depends on the generated parser header (lexer tokens).
$(BUILD)/%.o: %.c | $(GEN)/parser.h
	@mkdir -p $(dir $@)
	@echo "  CC     $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/gen/%.o: $(GEN)/%.c
	@echo "  CC     $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-unused-function -Wno-missing-prototypes -c -o $@ $<

deps:
	@sh tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory all $(BUILD)/check_ueajc fakes $(FUZZ_REPLAY)
	@sh tests/run_all.sh $(BUILD)

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    build-asan/ueajc build-asan/check_ueajc fakes $(FUZZ_SRC:tests/fuzz/%.c=build-asan/fuzz/replay_%)
	@UEAJ_SANITIZE=1 sh tests/run_all.sh build-asan

run: deps all
	@sh tools/run_default.sh $(BUILD)

demo: deps all
	@sh tools/demo.sh $(BUILD)

gpu-check:
	@bash tools/gpu_check.sh

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all deps check check-asan run demo clean fakes gpu-check fuzz
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
