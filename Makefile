# tokengate — the commands that matter: `make run`, `make quick` (the
# development loop) and `make test` (the full run).
# Only Go (with gcc for cgo/SQLite) is needed; everything else is fetched by
# the go command.

GO        ?= go
PKGS      ?= ./...
BIN       ?= bin/tokengate
FUZZTIME  ?= 60s
BENCH_FLAGS ?=

.PHONY: run build quick test vet fmt-check lint unit bench bench-scale bench-micro fuzz clean interop

## run: start the gateway on the embedded default config (all dialects, demo credentials)
run:
	$(GO) run ./cmd/tokengate serve $(RUN_FLAGS)

## build: compile the binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/tokengate

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
test: vet fmt-check lint unit

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
	rm -rf bin tokengate.db tokengate.db-shm tokengate.db-wal

## bench: load harness: ceiling server + tokengate on a fresh database, every
## scenario closed-loop (BENCH_FLAGS e.g. '-d 3s -json out.json -scenarios oauth2_cc')
bench:
	$(GO) build -o $(BIN) ./cmd/tokengate
	$(GO) run ./cmd/tgbench -tokengate $(BIN) $(BENCH_FLAGS)

## bench-scale: preload BENCH_SCALE_N tokens, compare oauth2_cc and
## accounda_validate on the empty and the loaded database
BENCH_SCALE_N ?= 10000000
bench-scale:
	$(GO) build -o $(BIN) ./cmd/tokengate
	$(GO) run ./cmd/tgbench -tokengate $(BIN) -scale $(BENCH_SCALE_N) $(BENCH_FLAGS)
