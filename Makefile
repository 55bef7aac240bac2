# tokengate — the two commands that matter: `make run` and `make test`.
# Only Go (with gcc for cgo/SQLite) is needed; everything else is fetched by
# the go command.

GO        ?= go
PKGS      ?= ./...
BIN       ?= bin/tokengate
FUZZTIME  ?= 60s
BENCH_FLAGS ?=

.PHONY: run build test vet fmt-check lint unit bench bench-scale bench-micro fuzz clean

## run: start the gateway on the embedded default config (all dialects, demo credentials)
run:
	$(GO) run ./cmd/tokengate serve $(RUN_FLAGS)

## build: compile the binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/tokengate

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

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
	$(GO) test -race -count=1 $(PKGS)

## bench-micro: Go micro-benchmarks (engine, minters, signing, cache, storage)
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

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
