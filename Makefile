# tokengate — the commands that matter: `make run`, `make quick` (the
# development loop) and `make test` (the full run).
# Only Go (with gcc for cgo/SQLite) is needed; everything else is fetched by
# the go command.

GO        ?= go
PKGS      ?= ./...
BIN       ?= bin/tokengate
FUZZTIME  ?= 60s
BENCH_FLAGS ?=
RUN_FLAGS ?=

# Version stamps for `tokengate version`: the nearest tag (else "dev") and
# the commit, "-dirty" when the tree has uncommitted changes.
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell c=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null || c=$$c-dirty; echo $$c; } || echo unknown)
LDFLAGS  = -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: run build install quick test browser vet fmt-check lint unit bench bench-wrk bench-scale bench-micro fuzz clean dist dist-check image image-context podman interop

# CAN_APT is a shell test: can this user install Debian packages? Root
# can, and so can a user the package database is writable for (some
# machines map root to another uid, so `id -u` alone is not the answer).
CAN_APT = command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || [ -w /var/lib/dpkg ]; }

## run: build, then start the gateway on the embedded default config (all
## dialects, demo credentials); extra serve flags in RUN_FLAGS, e.g.
## make run RUN_FLAGS='--listen 127.0.0.1:9090 --config my.yaml'
run:
	@echo "building $(BIN) (the first build compiles SQLite: 1-2 minutes)..."
	@$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tokengate
	@echo "starting: $(BIN) serve $(RUN_FLAGS)"
	@$(BIN) serve $(RUN_FLAGS)

## build: compile the binary into bin/, version and commit stamped
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tokengate

## install: go install the binary into $(go env GOBIN) or ~/go/bin, stamped
install:
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/tokengate

# dist: a static linux/amd64 binary with SQLite inside (cgo, glibc linked
# statically; netgo and osusergo keep glibc's NSS, which cannot be linked
# statically, out), for the container image and for download.
DIST       ?= dist
DIST_BIN    = $(DIST)/tokengate-linux-amd64
DIST_TAGS   = osusergo,netgo,sqlite_omit_load_extension
DIST_LDFLAGS = -s -w -linkmode external -extldflags "-static" $(LDFLAGS)

## dist: static linux/amd64 binary in dist/ (checked with `file`)
dist:
	CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build -tags $(DIST_TAGS) -ldflags '$(DIST_LDFLAGS)' -o $(DIST_BIN) ./cmd/tokengate
	@$(MAKE) --no-print-directory dist-check

## dist-check: fail unless the dist binary is statically linked (file, else readelf)
dist-check:
	@if command -v file >/dev/null 2>&1; then \
	  out=$$(file -L $(DIST_BIN)) || exit 1; echo "$$out"; \
	  case "$$out" in *"statically linked"*) ;; *) echo "$(DIST_BIN) is not statically linked" >&2; exit 1;; esac; \
	else \
	  readelf -l $(DIST_BIN) >/dev/null || exit 1; \
	  if readelf -l $(DIST_BIN) | grep -q INTERP; then echo "$(DIST_BIN) is not statically linked" >&2; exit 1; fi; \
	  echo "$(DIST_BIN): statically linked (no program interpreter)"; \
	fi

# image: the container image of cmd/tokengate/Dockerfile, built from the
# repository root with the dist binary and this machine's CA certificates.
IMAGE   ?= tokengate:$(VERSION)
CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt
# podman first: docker's client alone (no engine) cannot build.
CONTAINER_TOOL ?= $(shell if command -v podman >/dev/null 2>&1; then echo podman; \
	elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; fi)

## image-context: what the Dockerfile copies from dist/ besides the binary
image-context:
	@mkdir -p $(DIST)/data
	cp $(CA_CERTS) $(DIST)/ca-certificates.crt

## image: build the container image IMAGE with podman or docker (installs podman when neither works and you are root)
image: dist image-context
	@tool="$(CONTAINER_TOOL)"; \
	if [ -z "$$tool" ]; then $(MAKE) --no-print-directory podman && tool=podman || exit 1; fi; \
	fmt=; [ "$$tool" = podman ] && fmt="--format docker"; \
	echo "$$tool build $$fmt -f cmd/tokengate/Dockerfile -t $(IMAGE) ."; \
	$$tool build $$fmt -f cmd/tokengate/Dockerfile -t $(IMAGE) .

## podman: install podman from the distribution's packages (root, apt only)
podman:
	@command -v podman >/dev/null 2>&1 && exit 0; \
	if ! { $(CAN_APT); }; then \
	  echo "no podman or working docker: install one (as root on Debian/Ubuntu: make podman)" >&2; exit 1; fi; \
	echo "installing podman with apt-get..."; apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends podman

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# GOTEST runs go test with its arguments, then prints the one line in which
# test processes noted tests skipped for want of a PostgreSQL server (go test
# hides the output of passing packages); it keeps go test's exit status.
GOTEST = report=$$(mktemp); TOKENGATE_SKIP_REPORT=$$report $(GO) test
GOTEST_END = ; rc=$$?; sort -u $$report; rm -f $$report; exit $$rc

## quick: the development loop: every test without -race, slow ones skipped
## (-short); under a minute with a warm build cache
quick:
	@$(GOTEST) -short $(PKGS) $(GOTEST_END)

## test: go vet, gofmt check, staticcheck, and every test with the race detector
test: browser vet fmt-check lint unit

## browser: install Debian's chromium for the console's browser tests when it
## is missing (as root with apt-get); otherwise say once that they will skip
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$TOKENGATE_CHROMIUM" ]; then :; \
	elif $(CAN_APT); then \
	  echo "browser: installing chromium for the console's browser tests (apt-get)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } || \
	    echo "browser: installing chromium failed; the browser tests will skip (fail with TOKENGATE_REQUIRE_BROWSER=1)"; \
	else echo "browser: no chromium and not root with apt-get: the console's browser tests will skip (install chromium to run them)"; fi

## lint: staticcheck at a pinned version, fetched by the go command
lint:
	$(GO) run $(STATICCHECK) $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	@$(GOTEST) -race -count=1 $(PKGS) $(GOTEST_END)

## interop: outside client libraries (openid-client, oauth4webapi, jose,
## simple-oauth2) against a gateway; needs node and npm (npm ci installs the
## locked versions)
INTEROP_DIR = cmd/tokengate/testdata/interop
interop:
	cd $(INTEROP_DIR) && npm ci --no-audit --no-fund
	TOKENGATE_INTEROP=1 $(GO) test -count=1 -run '^TestInterop$$' -v ./cmd/tokengate/

## bench-micro: Go micro-benchmarks (engine, minters, signing, cache, storage)
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# FUZZ_LIST prints "package target" for every fuzz target and fails when a
# package cannot be listed or its tests do not build.
FUZZ_LIST = pkgs=$$($(GO) list $(PKGS)) || exit 1; \
	for pkg in $$pkgs; do \
	  out=$$($(GO) test -list '^Fuzz' $$pkg 2>&1) || { echo "$$out" >&2; exit 1; }; \
	  for f in $$(echo "$$out" | grep '^Fuzz'); do echo "$$pkg $$f"; done; \
	done

## fuzz-list: every fuzz target as "package target"
fuzz-list:
	@$(FUZZ_LIST)

## fuzz-check: the listing finds every func FuzzXxx declared in a _test.go file
fuzz-check:
	@list=$$($(FUZZ_LIST)) || exit 1; \
	got=$$(echo "$$list" | awk '{print $$2}' | sort); \
	want=$$(grep -rhoE '^func Fuzz[A-Za-z0-9_]*' --include='*_test.go' . | sed 's/^func //' | sort); \
	if [ "$$got" != "$$want" ]; then \
	  echo "declared fuzz targets:"; echo "$$want"; echo "found by go test -list:"; echo "$$got"; exit 1; \
	fi; \
	echo "fuzz-check: all $$(echo "$$got" | wc -l | tr -d ' ') fuzz targets found"

## fuzz: run every fuzz target for FUZZTIME each; the final execs count of each goes to FUZZLOG
FUZZLOG ?= bin/fuzz-execs.txt
fuzz: fuzz-check
	@tmp=$$(mktemp -d); mkdir -p $$(dirname $(FUZZLOG)); : > $(FUZZLOG); \
	list=$$($(FUZZ_LIST)) || exit 1; echo "$$list" > $$tmp/targets; \
	while read pkg f; do \
	  echo "== $$pkg $$f ($(FUZZTIME))"; \
	  { $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg < /dev/null; echo $$? > $$tmp/rc; } 2>&1 | tee $$tmp/out; \
	  execs=$$(grep -o 'execs: [0-9]*' $$tmp/out | tail -1 | cut -d' ' -f2); \
	  echo "$$pkg $$f $${execs:-0}" >> $(FUZZLOG); \
	  [ "$$(cat $$tmp/rc)" = 0 ] || { rm -rf $$tmp; exit 1; }; \
	done < $$tmp/targets; \
	rm -rf $$tmp; echo "== execs per target ($(FUZZTIME) each), also in $(FUZZLOG):"; cat $(FUZZLOG)

clean:
	rm -rf bin dist tokengate.db tokengate.db-shm tokengate.db-wal

## bench: load harness: ceiling server + tokengate on a fresh database, every
## scenario closed-loop (BENCH_FLAGS e.g. '-d 3s -json out.json -scenarios oauth2_cc')
bench:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tokengate
	$(GO) run ./cmd/tgbench -tokengate $(BIN) $(BENCH_FLAGS)

## bench-wrk: issue 20's wrk comparison: the ceiling, tokengate and the
## go-oauth2 library (cmd/tgbench/compare) under wrk -t1 -c32, one table;
## ROUNDS, DURATION, CONNS, SERVERS and OUT pass through to the script, e.g.
## make bench-wrk ROUNDS=1 DURATION=2s. Installs wrk as root with apt-get.
bench-wrk:
	@if command -v wrk >/dev/null 2>&1; then :; \
	elif $(CAN_APT); then \
	  echo "bench-wrk: installing wrk (apt-get)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; } || \
	    { echo "bench-wrk: installing wrk with apt-get failed" >&2; exit 1; }; \
	else echo "bench-wrk: wrk is missing: install it (apt-get install wrk, as root)" >&2; exit 1; fi
	@$(if $(ROUNDS),ROUNDS='$(ROUNDS)') $(if $(DURATION),DURATION='$(DURATION)') \
	  $(if $(CONNS),CONNS='$(CONNS)') $(if $(SERVERS),SERVERS='$(SERVERS)') $(if $(OUT),OUT='$(OUT)') \
	  GO='$(GO)' bash cmd/tgbench/compare/wrk.sh

## bench-scale: preload BENCH_SCALE_N tokens, compare oauth2_cc and
## accounda_validate on the empty and the loaded database
BENCH_SCALE_N ?= 10000000
bench-scale:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tokengate
	$(GO) run ./cmd/tgbench -tokengate $(BIN) -scale $(BENCH_SCALE_N) $(BENCH_FLAGS)
