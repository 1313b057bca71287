# emgcache: one Makefile for every module of the go.work workspace.
SHELL := /bin/bash
MODULES := emgkey internal store codec/msgpack patterns middleware emgotel health health/browsertest emg examples examples/storeonly bench
GO ?= go
TEST_FLAGS ?= -race -count=1 -timeout 15m
BENCH_FLAGS ?= -run '^$$' -bench . -benchmem -count 6 -timeout 90m
ADDR ?= :8080

.PHONY: all test bench-report chromium lint tidy tidy-check deps-check bench run build redis-server benchstat clean

all: lint test

## run: build examples/server, listing each package as it compiles (the first build compiles SQLite: minutes
## on a slow machine), then start it on $(ADDR) with the embedded backend (REDIS_URL selects Redis).
run:
	@mkdir -p bin
	@echo "building examples/server into bin/server; a first build compiles SQLite and can take minutes, listing each package:"
	cd examples && $(GO) build -v -o ../bin/server ./server
	@echo "starting bin/server on $(ADDR) (data in examples/emgcache-server.db)"
	cd examples && ../bin/server -addr $(ADDR)

build:
	@for m in $(MODULES); do (cd $$m && $(GO) build ./...) || exit 1; done

## redis-server: find redis-server, or install it from Debian's packages.
redis-server:
	@./scripts/find-redis-server.sh >/dev/null

## chromium: find Chromium for the dashboard's browser test, or install it from Debian's packages.
chromium:
	@./scripts/find-chromium.sh >/dev/null

## test: every module's tests with -race against real redis-server processes.
test: redis-server chromium
	@export EMGCACHE_REDIS_SERVER="$$(./scripts/find-redis-server.sh)"; \
	export EMGCACHE_CHROMIUM="$$(./scripts/find-chromium.sh)"; \
	status=0; \
	for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && $(GO) test $(TEST_FLAGS) ./...) || status=1; \
	done; \
	exit $$status

## lint: gofmt, go vet, go mod tidy changing nothing, and the modules' dependency edges.
lint: tidy-check deps-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

tidy:
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy) || exit 1; done

# tidy-check keeps its backups in a directory of its own: several checkouts
# of the repository may run it at once on one machine.
tidy-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for m in $(MODULES); do \
		(cd $$m && cp go.mod "$$tmp/go.mod" && { [ -f go.sum ] && cp go.sum "$$tmp/go.sum" || rm -f "$$tmp/go.sum"; } && \
		GOWORK=off $(GO) mod tidy && \
		if ! cmp -s go.mod "$$tmp/go.mod" || { [ -f "$$tmp/go.sum" ] && ! cmp -s go.sum "$$tmp/go.sum"; }; then \
			echo "go mod tidy changes $$m"; cp "$$tmp/go.mod" go.mod; [ -f "$$tmp/go.sum" ] && cp "$$tmp/go.sum" go.sum; exit 1; fi) || exit 1; \
	done

## deps-check: store stays light, emgkey and internal import only the standard library, health/client links no
## Redis client, health requires no patterns nor chromedp, store, patterns and middleware no OpenTelemetry.
deps-check:
	@GO=$(GO) ./scripts/deps-check.sh

benchstat:
	@command -v benchstat >/dev/null 2>&1 || [ -x "$$($(GO) env GOPATH)/bin/benchstat" ] || $(GO) install golang.org/x/perf/cmd/benchstat@latest

## bench: Go benchmarks of every module, enough runs for benchstat (results in .tmp/bench).
bench: redis-server benchstat
	@export EMGCACHE_REDIS_SERVER="$$(./scripts/find-redis-server.sh)"; mkdir -p .tmp/bench; \
	for m in $(MODULES); do \
		out=.tmp/bench/$$(echo $$m | tr / _).txt; \
		(cd $$m && $(GO) test $(BENCH_FLAGS) ./...) | tee $$out || exit 1; \
	done; \
	export PATH="$$PATH:$$($(GO) env GOPATH)/bin"; \
	for f in .tmp/bench/*.txt; do echo "== $$f"; benchstat $$f; done

## bench-report: bench/'s comparison (six runs of one test binary) and the HTTP load runs; tables in .tmp/bench.
bench-report: redis-server benchstat
	@set -o pipefail; export EMGCACHE_REDIS_SERVER="$$(./scripts/find-redis-server.sh)"; mkdir -p .tmp/bench; cd bench && \
	$(GO) test -c -o ../.tmp/bench/bench.test . && \
	for i in 1 2 3 4 5 6; do ../.tmp/bench/bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 -test.timeout 60m || exit 1; done | tee ../.tmp/bench/compare.txt && \
	$(GO) run ./cmd/benchtable ../.tmp/bench/compare.txt > ../.tmp/bench/compare.md && \
	$(GO) run ./cmd/loadrun -o ../.tmp/bench/load-middleware.md && \
	$(GO) run ./cmd/loadrun -server ../examples/server -o ../.tmp/bench/load-server.md

clean:
	rm -rf bin .tmp
