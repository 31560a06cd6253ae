# kradius — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
BIN   ?= bin/kradius
# Packages of every module in go.work.
PKGS  := ./services/... ./api/... ./proto/... ./operator/... ./test/...

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

TOOLS ?= $(HOME)/.cache/kradius-tools

.PHONY: tools
tools: ## Install buf, the protoc plugins, controller-gen and the linters at pinned versions (outside the repo).
	@TOOLS=$(TOOLS) hack/tools.sh >/dev/null

.PHONY: generate
generate: tools ## Regenerate checked-in code: protobuf/gRPC (buf), the FaxBack attributes, the API deep copies and CRDs.
	cd proto && PATH=$(TOOLS):$$PATH buf generate
	cd services && $(GO) generate ./...
	cd api && $(TOOLS)/controller-gen object paths=./... && \
	  rm -f ../operator/config/crd/bases/*.yaml && \
	  $(TOOLS)/controller-gen crd paths=./... output:crd:artifacts:config=../operator/config/crd/bases
	@# The chart ships copies of the CRDs, the alert rules and the boards.
	rm -f charts/kradius/crds/*.yaml charts/kradius/files/dashboards/*.json
	cp operator/config/crd/bases/*.yaml charts/kradius/crds/
	cp deploy/alerts/kradius.rules.yaml charts/kradius/files/
	cp deploy/dashboards/*.json charts/kradius/files/dashboards/

.PHONY: build
build: ## Build bin/kradius.
	$(GO) build -ldflags "$(VERSION_LDFLAGS)" -o $(BIN) ./services/cmd/kradius

# The revision kradius_build_info reports: the go command stamps none in
# workspace mode.
VERSION_LDFLAGS := -X kradius.dev/services/version.RevisionOverride=$(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -modified)

# make image: the version the images carry; the commit's time is every
# timestamp in them, so that one commit gives one digest.
IMAGE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_SOURCE  ?= https://github.com/kradius/kradius

.PHONY: image
image: ## Build the kradius and operator images as OCI archives in bin/ (no Docker); one commit, one digest.
	@mkdir -p bin/image
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(VERSION_LDFLAGS) -X kradius.dev/services/version.Override=$(IMAGE_VERSION)" -o bin/image/kradius ./services/cmd/kradius
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/image/operator ./operator/cmd
	@created=$$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ) && rev=$$(git rev-parse HEAD) && \
	for img in kradius operator; do \
	  $(GO) run ./test/ociimage -binary bin/image/$$img -entrypoint /$$img -name localhost/$$img:$(IMAGE_VERSION) \
	    -out bin/$$img-image.tar -created $$created -revision $$rev -version $(IMAGE_VERSION) -source $(IMAGE_SOURCE) || exit 1; \
	done

.PHONY: run
run: build ## Start everything in one process on the demo config (UDP 1812/1813 on 127.0.0.1).
	$(BIN) -config deploy/examples/kradius.yaml

.PHONY: test-deps
test-deps: ## Install what the tests need (radclient, radsecproxy, redis-server, etcd), or say how; Prometheus and Jaeger are built by hack/obs-assets.sh.
	@hack/test-deps.sh

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver and install etcd for the operator tests, cached outside the repo.
	@hack/envtest-assets.sh

.PHONY: test
test: test-deps lint ## Lint, then run every test, end to end included, and short fuzz runs.
	@hack/obs-assets.sh >/dev/null   # Prometheus, promtool and Jaeger, built once: a cold build outlasts go test's timeout
	@hack/cluster-assets.sh helm >/dev/null   # helm, for the chart's tests
	assets=$$(hack/envtest-assets.sh) && KUBEBUILDER_ASSETS=$$assets $(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run=Allocate ./services/...   # allocation counts, which -race distorts
	@for t in $(FUZZ_TARGETS); do hack/fuzz.sh "$${t#*:}" "$${t%%:*}" $(FUZZTIME) || exit 1; done

# Not in test-short: the end-to-end suites (./test/...), which run the
# binary, and the operator's envtest suites, which start kube-apiserver.
# -short keeps the operator's controller tests to those needing no API server.
SHORT_SKIP := -e '^kradius.dev/test$$' -e '^kradius.dev/test/' -e '^kradius.dev/operator/internal/e2e$$' -e '^kradius.dev/operator/internal/envtestsmoke$$'

.PHONY: test-cluster
test-cluster: ## Tests on a real single-node Kubernetes (root): builds the cluster's binaries once (30-40 min cold, cached), then runs test/cluster.
	hack/cluster-assets.sh >/dev/null
	cd test && KRADIUS_CLUSTER_TESTS=1 $(GO) test -count=1 -v -timeout 20m ./cluster/

.PHONY: test-short
test-short: test-deps ## Unit and in-process tests with -race: no end-to-end or envtest suites, no lint or fuzzing.
	$(GO) test -race -short $$($(GO) list $(PKGS) | grep -v $(SHORT_SKIP))

# Minimizing a new input may take 60 s by default, during which nothing else
# is fuzzed: FuzzAppendRecord ran 8.5k inputs in 40 s that way, 196k in 20 s
# with 1 s.
FUZZTIME ?= 15s

# Every decoder's fuzz target, as package:Target, for make test and make
# fuzz: the RADIUS framing and authenticators (edge), each profile's
# decoder, the accounting record encoder against the generated structs and
# the record's shortcuts, the config loader and the import file reader.
FUZZ_TARGETS := \
	./services/edge:FuzzFrame \
	./services/edge:FuzzReadFrame \
	./services/nas/faxback:FuzzDecode \
	./services/nas/firebrick:FuzzServeAccess \
	./services/nas/dialogic:FuzzDecode \
	./services/nas/generic:FuzzDecode \
	./services/accounting:FuzzAppendRecord \
	./services/accounting:FuzzStatusTypeOf \
	./services/config:FuzzLoad \
	./services/provision:FuzzLoad

# make fuzz runs each for 10 minutes, unless FUZZTIME is given.
fuzz: FUZZTIME := $(if $(filter file,$(origin FUZZTIME)),10m,$(FUZZTIME))

.PHONY: fuzz
fuzz: ## Fuzz every decoder (FUZZ_TARGETS) for FUZZTIME (10m) each, then print each one's executions.
	@summary=$$(mktemp) && trap 'rm -f $$summary' EXIT && rc=0 && \
	  for t in $(FUZZ_TARGETS); do FUZZ_SUMMARY=$$summary hack/fuzz.sh "$${t#*:}" "$${t%%:*}" $(FUZZTIME) || rc=1; done; \
	  echo; echo "fuzzing, $(FUZZTIME) a target:"; cat $$summary; exit $$rc

# make chaos: the chaos scenarios of test/e2e (chaos_test.go) at full size,
# CHAOS_SESSIONS Stops each at 200 a second, one line per scenario; then
# TestOverload (overload_test.go) for OVERLOAD_SECONDS at three times the
# measured capacity.
CHAOS_SESSIONS ?= 2000
OVERLOAD_SECONDS ?= 60

.PHONY: chaos
chaos: test-deps ## Kill and stop consumers and the broker under load, then overload kradius 3x; print one line per scenario.
	@report=$$(mktemp) && trap 'rm -f $$report' EXIT && \
	  KRADIUS_CHAOS_SESSIONS=$(CHAOS_SESSIONS) KRADIUS_CHAOS_REPORT=$$report $(GO) test -count=1 -timeout 60m -run '^TestChaos' ./test/e2e; rc=$$?; \
	  KRADIUS_OVERLOAD_SECONDS=$(OVERLOAD_SECONDS) KRADIUS_CHAOS_REPORT=$$report $(GO) test -count=1 -timeout 20m -run '^TestOverload$$' ./test/e2e || rc=1; \
	  echo; echo "chaos ($(CHAOS_SESSIONS) Stops a scenario; $(OVERLOAD_SECONDS) s of overload):"; cat $$report; exit $$rc

.PHONY: bench
bench: ## Load kradius all and distributed, and FreeRADIUS 3.2, with kradius bench; then the Go benchmarks of the hot path.
	@hack/test-deps.sh bench
	@test/bench/bench.sh
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

.PHONY: import-bench
import-bench: ## Time kradius import of N accounts (default 1000000) into Redis.
	@test/bench/import.sh

# Import groups, in order: standard library; third party; kradius.dev.
IMPORT_GROUPS := -s standard -s default -s 'prefix(kradius.dev)'

.PHONY: lint
lint: tools ## gofmt, import groups (gci), go vet, staticcheck, buf lint and breaking check, and a check that generated code is current.
	@out=$$(gofmt -l services api proto operator test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(TOOLS)/gci list --skip-generated $(IMPORT_GROUPS) services api proto operator test) || exit 1; \
	  if [ -n "$$out" ]; then echo "imports not grouped as standard library; third party; kradius.dev (fix: $(TOOLS)/gci write --skip-generated $(IMPORT_GROUPS) FILE):"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(TOOLS)/staticcheck $(PKGS)
	cd proto && PATH=$(TOOLS):$$PATH buf lint
	@hack/buf-breaking.sh
	@hack/check-generated.sh
