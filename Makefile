# The two commands the README opens with: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libpng-dev libhdf5-dev pkg-config
# What the tests need besides: Open MPI's mpirun for the data-parallel test (docs/distributed.md),
# Chromium for the browser test of `ecdp report`.
TEST_APT_PACKAGES := openmpi-bin chromium
ECDP := .build/release/ecdp
BENCH_PYTHON ?= .venv-bench/bin/python
# The folder holding the team's PyTorch reference, torch_reference.py (docs/performance.md).
BENCH_DIR ?=

.PHONY: setup setup-test install-packages build demo test bench fuzz clean

## Install the Debian packages the project links against, only those missing.
setup:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(APT_PACKAGES)"

setup-test: setup
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(TEST_APT_PACKAGES)"

install-packages:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## Release build of the `ecdp` tool.
build: setup
	$(SWIFT) build -c release --product ecdp

## The main job on the data shipped in the repo, with progress.
demo: build
	$(ECDP) demo

## The whole test suite (debug build), then one plain summary line.
test: setup-test
	@mkdir -p .build
	$(SWIFT) build --product ecdp  # the process-level tests run the binaries
	$(SWIFT) build --product ecdp-fuzz
	$(SWIFT) test 2>&1 | tee .build/test.log
	@n=$$(grep -Eo 'Test run with [0-9]+ tests?' .build/test.log | tail -1 | grep -Eo '[0-9]+'); \
	echo "tests: $${n:-0} passed, 0 failed"

## Kernel timings (JSON); beside them PyTorch's when the bench venv exists and BENCH_DIR
## names the reference's folder (docs/performance.md).
bench: build
	$(ECDP) bench kernels --json
	@if [ -x $(BENCH_PYTHON) ] && [ -n "$(BENCH_DIR)" ]; then $(BENCH_PYTHON) $(BENCH_DIR)/torch_reference.py kernels --json | tail -1; \
	else echo "bench: set BENCH_DIR and create $(BENCH_PYTHON) for the PyTorch reference (docs/performance.md); skipping it"; fi

## Coverage-guided fuzzing of the readers of untrusted input (docs/robustness.md): each
## target runs FUZZ_SECONDS (default 60) from Tests/Fuzz/Corpus/TARGET; new inputs go to
## .build/fuzz/corpus/TARGET, crashes to .build/fuzz/crashes/TARGET/. Leak detection is off:
## Foundation keeps small allocations per mapped read and per zip archive opened on Linux,
## which are not ours.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= png pth pickle safetensors hdf5 config set
fuzz: setup
	$(SWIFT) build --product ecdp-fuzz --scratch-path .build/fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build/fuzz/corpus/$$t .build/fuzz/crashes/$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS) s"; \
	  ECDP_FUZZ_TARGET=$$t SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 .build/fuzz/debug/ecdp-fuzz .build/fuzz/corpus/$$t Tests/Fuzz/Corpus/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 -print_final_stats=1 \
	    -artifact_prefix=.build/fuzz/crashes/$$t/ > .build/fuzz/$$t.log 2>&1; status=$$?; \
	  grep -E "^#[0-9]+ *DONE|stat::number_of_executed_units|ERROR|SUMMARY" .build/fuzz/$$t.log | tail -3; \
	  if [ $$status -ne 0 ]; then echo "fuzz $$t: failed (exit $$status), see .build/fuzz/$$t.log"; exit 1; fi; \
	done

clean:
	rm -rf .build
