# Entry points over CMake; the build targets first install missing Debian packages.
#   make, make build   release build with debug info and warnings as errors, in build/
#   make test          the suite in build/, again under ASan+UBSan in build-asan/, and its threaded
#                      parts under ThreadSanitizer in build-tsan/ (scripts/test-tsan)
#   make demo          measures examples/train_mlp.py with the program just built
#   make install       cmake --install to $(PREFIX) (default /usr/local); honours DESTDIR
#   make fuzz          the fuzz targets (tests/fuzz/) with clang + libFuzzer, FUZZ_SECONDS each
#                      (default 60) in build-fuzz/; `make test` replays their corpora with gcc
#   make fresh-check   the README's commands in a fresh minimal Debian 12 root (scripts/fresh-check;
#                      FRESH_ARGS="--demo-only --keep" passes options); needs root and ~1 h
#   make test-loaded   the release suite 3 times with every CPU busy (stress-ng; scripts/test-loaded)
#   make bench         bench/run          make format   clang-format          make clean
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

BUILD = build
ASAN = build-asan
PREFIX = /usr/local
JOBS = $(shell nproc)
# CMake's generated makefiles run as their own build, not as sub-makes of this one.
CMAKE_BUILD = env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build
CTEST = ctest --output-on-failure --no-tests=error -j2 --test-dir

FUZZ_SECONDS ?= 60

.PHONY: all build deps test demo install bench format clean fuzz fresh-check test-loaded

all: build

deps:
	@bash scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJST_WERROR=ON >/dev/null
	@$(CMAKE_BUILD) $(BUILD) -j$(JOBS)

# Every pass runs even if an earlier one fails; the summary line says which failed.
test: build
	@rel=passed; asan=passed; echo "== tests in $(BUILD)/"; \
	$(CTEST) $(BUILD) || rel="FAILED (ctest exit $$?)"; \
	echo "== ASan+UBSan build in $(ASAN)/"; \
	if cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DJST_SANITIZE=ON -DJST_WERROR=ON >/dev/null \
	   && $(CMAKE_BUILD) $(ASAN) -j$(JOBS); then \
		$(CTEST) $(ASAN) || asan="FAILED (ctest exit $$?)"; \
	else asan="FAILED (build)"; fi; \
	echo "== ThreadSanitizer build in build-tsan/ (the threaded parts; scripts/test-tsan)"; \
	tsan=passed; JOBS=$(JOBS) bash scripts/test-tsan || tsan="FAILED"; \
	echo; echo "== make test: release $$rel; asan+ubsan $$asan; tsan $$tsan"; \
	[ "$$rel$$asan$$tsan" = passedpassedpassed ]

demo: build
	./$(BUILD)/joulestream run --zone DE -- python3 examples/train_mlp.py
	./$(BUILD)/joulestream runs --limit 5

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

bench: build
	@[ -f bench/run ] || { echo "make bench: bench/run is missing" >&2; exit 1; }
	bash bench/run

fuzz:
	@bash scripts/install-deps --fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz

# Only the lines changed since HEAD (git clang-format): the tree is not formatted in one sweep,
# and a whole-file pass would bury every change under layout churn.
format:
	@bash scripts/install-deps --dev
	git clang-format --force HEAD -- src include tests

# The release suite three times with every CPU kept busy by stress-ng (scripts/test-loaded).
test-loaded: build
	@bash scripts/install-deps --dev
	bash scripts/test-loaded

# Checks the committed HEAD, not the working tree: commit first.
fresh-check:
	bash scripts/fresh-check $(FRESH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN) build-fuzz
