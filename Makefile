# Entry points for people and CI. Every target that builds installs missing
# Debian packages first through scripts/install-deps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= 2

.PHONY: all deps build build-asan test test-plain test-asan demo fuzz bench clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAFTERSHOCK_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# The plain build runs first, then the same suite under ASan and UBSan.
test: deps
	$(MAKE) --no-print-directory test-plain test-asan

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir $(ASAN_BUILD) --output-on-failure

demo: build
	AFTERSHOCK_BIN=$(CURDIR)/$(BUILD)/aftershock scripts/demo

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DAFTERSHOCK_SANITIZE=ON -DAFTERSHOCK_LIBFUZZER=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	@echo "fuzz targets are in $(FUZZ_BUILD)/, for example: $(FUZZ_BUILD)/fuzz_experiment tests/fuzz/corpus/fuzz_experiment"

# Each benchmark prints its table; docs/benchmarks.md records the figures.
bench: build
	AFTERSHOCK_BIN=$(CURDIR)/$(BUILD)/aftershock bench/probe_lag
	bench/proxy --bin $(CURDIR)/$(BUILD)/aftershock
	bench/report
	bench/check --bin $(CURDIR)/$(BUILD)/aftershock
	bench/traffic --bin $(CURDIR)/$(BUILD)/aftershock
	bench/deps --bin $(CURDIR)/$(BUILD)/aftershock
	bench/stress --bin $(CURDIR)/$(BUILD)/aftershock
	bench/heal --bin $(CURDIR)/$(BUILD)/aftershock

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
