# tincan: build, test and demo targets. Run as root on Debian 12.
GO       ?= $(shell ./scripts/go.sh || echo go)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The nsenter constructor (cgo) must be linked with the external linker;
# static so the binary runs anywhere (the device machine has no Go).
LDFLAGS  := -s -w -X main.version=$(VERSION) -linkmode external -extldflags -static
TAGS     := osusergo,netgo
BIN      := bin
SHARED   ?= ../shared
CONFORMANCE_BASELINE := tests/conformance/baseline

.PHONY: all build deps tincan-oci tincan test unit conformance vet demo bench bench-smoke clean test-engines

all: build

deps:
	./scripts/install-deps.sh

build: deps tincan-oci tincan

# tincan-oci links musl when musl-gcc is there (musl-tools): glibc's
# static start-up (CPU feature probing) and thread creation cost every
# tincan-oci process ~0.4 ms, twice per `run` (docs/PERFORMANCE.md).
OCI_CC   ?= $(shell command -v musl-gcc 2>/dev/null || echo gcc)

tincan-oci:
	CC=$(OCI_CC) CGO_ENABLED=1 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/tincan-oci ./cmd/tincan-oci

tincan:
	CGO_ENABLED=1 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/tincan ./cmd/tincan

vet:
	$(GO) vet ./...

# unit + root integration tests, then the OCI conformance suite gated on
# the stored baseline (fails on any regression).
test: build vet unit bench-smoke conformance

# The tests use the binaries just built (TINCAN_OCI, TINCAN) instead of
# building their own. hostguard fails the run if a test left a mount on
# the host (tests must mount only in private namespaces).
unit: tincan-oci tincan
	TINCAN_OCI=$(abspath $(BIN)/tincan-oci) TINCAN=$(abspath $(BIN)/tincan) \
		./scripts/hostguard.sh $(GO) test -count=1 -timeout 40m ./...

# The engine suite (containerd, podman, docker; also part of unit) with
# runc first, to show the tests are fair, then with tincan-oci.
test-engines: tincan-oci
	TINCAN_ENGINES_RUNTIME=runc $(GO) test -count=1 -timeout 20m -v ./tests/engines/
	TINCAN_OCI=$(abspath $(BIN)/tincan-oci) $(GO) test -count=1 -timeout 20m -v ./tests/engines/

# The Go benchmarks of the hot paths, once each (-benchtime=1x): they must
# keep compiling and running; timings come from `make bench`, never tests.
BENCH_PKGS = ./spec/ ./internal/lazyjson/ ./linux/seccomp/ ./linux/selfexe/ ./linux/cgroups/v2/ ./engine/ ./runtime/
bench-smoke:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x $(BENCH_PKGS)

# Every benchmark side by side with runc, crun, podman and containerd;
# writes bench/results/<date>.json, the chart and docs/PERFORMANCE.md's
# tables (bench/run.sh; RUNS, DENSITY_N, BENCHTIME, PULL=0 tune it).
bench: build
	SHARED=$(SHARED) BENCH_PKGS="$(BENCH_PKGS)" bench/run.sh

conformance: tincan-oci
	$(SHARED)/conformance/build
	. ./$(CONFORMANCE_BASELINE) && $(SHARED)/conformance/run \
		--min-pass $$MIN_PASS --max-fail $$MAX_FAIL $(BIN)/tincan-oci
	$(GO) run ./tests/conformance/gate $(CONFORMANCE_BASELINE) \
		$${XDG_CACHE_HOME:-$$HOME/.cache}/oci-conformance/results/tincan-oci/summary.json

# Runs busybox containers from a throwaway bundle (busybox-static): with
# tincan-oci, then a web server on 127.0.0.1 with tincan (own state dirs).
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
