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

.PHONY: all build deps tincan-oci test unit conformance vet demo bench clean

all: build

deps:
	./scripts/install-deps.sh

build: deps tincan-oci

tincan-oci:
	CGO_ENABLED=1 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/tincan-oci ./cmd/tincan-oci

vet:
	$(GO) vet ./...

# unit + root integration tests, then the OCI conformance suite gated on
# the stored baseline (fails on any regression).
test: build vet unit conformance

# The tests use the binary just built (TINCAN_OCI) instead of building
# their own.
unit: tincan-oci
	TINCAN_OCI=$(abspath $(BIN)/tincan-oci) $(GO) test -count=1 -timeout 30m ./...

conformance: tincan-oci
	$(SHARED)/conformance/build
	. ./$(CONFORMANCE_BASELINE) && $(SHARED)/conformance/run \
		--min-pass $$MIN_PASS --max-fail $$MAX_FAIL --max-broken $$MAX_BROKEN $(BIN)/tincan-oci

# Runs a busybox container: a throwaway bundle from busybox-static.
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
