# emgcache: one Makefile for every module of the go.work workspace.
SHELL := /bin/bash
MODULES := store patterns middleware health examples examples/storeonly bench
GO ?= go
TEST_FLAGS ?= -race -count=1 -timeout 15m
BENCH_FLAGS ?= -run '^$$' -bench . -benchmem -count 6
ADDR ?= :8080

.PHONY: all test test-short lint tidy tidy-check bench run build redis-server fuzz clean

all: lint test

## run: start examples/server on $(ADDR) with the embedded backend (REDIS_URL selects Redis).
run:
	cd examples && $(GO) run ./server -addr $(ADDR)

build:
	@for m in $(MODULES); do (cd $$m && $(GO) build ./...) || exit 1; done

## redis-server: find redis-server, or install it from Debian's packages.
redis-server:
	@./scripts/find-redis-server.sh >/dev/null

## test: every module's tests with -race against real redis-server processes.
test: redis-server
	@export EMGCACHE_REDIS_SERVER="$$(./scripts/find-redis-server.sh)"; \
	status=0; \
	for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && $(GO) test $(TEST_FLAGS) ./...) || status=1; \
	done; \
	exit $$status

## lint: gofmt, go vet and a check that go mod tidy changes nothing.
lint: tidy-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

tidy:
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy) || exit 1; done

tidy-check:
	@for m in $(MODULES); do \
		(cd $$m && cp go.mod /tmp/emgcache-go.mod.bak && { [ -f go.sum ] && cp go.sum /tmp/emgcache-go.sum.bak || rm -f /tmp/emgcache-go.sum.bak; } && \
		GOWORK=off $(GO) mod tidy && \
		if ! cmp -s go.mod /tmp/emgcache-go.mod.bak || { [ -f /tmp/emgcache-go.sum.bak ] && ! cmp -s go.sum /tmp/emgcache-go.sum.bak; }; then \
			echo "go mod tidy changes $$m"; cp /tmp/emgcache-go.mod.bak go.mod; [ -f /tmp/emgcache-go.sum.bak ] && cp /tmp/emgcache-go.sum.bak go.sum; exit 1; fi) || exit 1; \
	done

## bench: Go benchmarks of every module, enough runs for benchstat.
bench: redis-server
	@export EMGCACHE_REDIS_SERVER="$$(./scripts/find-redis-server.sh)"; \
	for m in $(MODULES); do (cd $$m && $(GO) test $(BENCH_FLAGS) ./...) || exit 1; done

clean:
	rm -rf bin .tmp
