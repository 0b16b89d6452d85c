# KalypsoServing Makefile. Every tool is built from Go modules into ./bin on
# first use, so a machine with Go and a Go module proxy is enough.

IMG ?= kalypso-serving:dev
# Platforms of the manager image (comma-separated os/arch), and where the
# engine-less build writes it.
PLATFORMS ?= linux/amd64,linux/arm64
IMAGE_DIR ?= bin/image
# The commit the image's org.opencontainers.image.revision label names.
REVISION ?= $(shell git rev-parse --verify --quiet HEAD 2>/dev/null)

# The Kubernetes version is defined once: the k8s.io/kubernetes requirement in
# hack/k8s/go.mod, from which the control-plane binaries are built. `make
# verify` checks that everything else agrees with it (hack/verify-k8s-version.sh).
KUBERNETES_VERSION := $(shell "$(CURDIR)/hack/k8s/version.sh")
ifeq ($(KUBERNETES_VERSION),)
$(error cannot read the k8s.io/kubernetes version from hack/k8s/go.mod)
endif

# Tool versions (pinned).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0
GINKGO_VERSION ?= v2.34.0
KWOK_VERSION ?= v0.8.0
CRANE_VERSION ?= v0.22.1
# Helm is built from hack/helm/go.mod (its own module, so that Helm never
# moves the project's k8s.io/* versions); keep the two in step.
HELM_VERSION ?= v3.22.0

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

LOCALBIN ?= $(CURDIR)/bin
K8S_BIN ?= $(LOCALBIN)/k8s/$(KUBERNETES_VERSION)
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
GINKGO ?= $(LOCALBIN)/ginkgo-$(GINKGO_VERSION)
KWOK ?= $(LOCALBIN)/kwok-$(KWOK_VERSION)
KWOKCTL ?= $(LOCALBIN)/kwokctl-$(KWOK_VERSION)
CRANE ?= $(LOCALBIN)/crane-$(CRANE_VERSION)
KUBECTL ?= $(K8S_BIN)/kubectl
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
CHART ?= charts/kalypso-serving

# Binaries envtest needs; the local cluster adds the controller manager and scheduler.
ENVTEST_COMPONENTS = kube-apiserver etcd kubectl
CLUSTER_COMPONENTS = $(ENVTEST_COMPONENTS) kube-controller-manager kube-scheduler

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the Go markers, and copy them (and the dashboards and rules) into the Helm chart.
	"$(CONTROLLER_GEN)" rbac:roleName=kalypso-serving-manager crd:maxDescLen=400 paths="./api/..." paths="./internal/..." output:crd:artifacts:config=config/crd/bases
	@hack/helm/sync-chart.sh "$(CHART)"

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Rewrite Go files with go fmt (the only target that reformats code; verify only checks).
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint with fixes.
	"$(GOLANGCI_LINT)" run --fix

# Each check of `make verify`; every one runs even when another fails.
VERIFY_CHECKS = verify-generated verify-fmt verify-mod verify-golden verify-k8s-version

.PHONY: verify $(VERIFY_CHECKS)
verify: ## Fail on stale generated or golden files, unformatted code, untidy go.mod files or a disagreeing Kubernetes version.
	@$(MAKE) --no-print-directory -k $(VERIFY_CHECKS)

verify-generated: manifests generate ## Fail when generated files (CRDs, RBAC, deepcopy, the chart's copies) are stale.
	@if [ -n "$$(git status --porcelain -- config/crd config/rbac api $(CHART)/files)" ]; then \
		echo "generated files are stale; run 'make manifests generate' and commit:"; \
		git status --porcelain -- config/crd config/rbac api $(CHART)/files; git --no-pager diff --stat -- config/crd config/rbac api $(CHART)/files; exit 1; \
	fi

verify-fmt: ## Fail when a Go file outside bin/ is not gofmt-formatted (nothing is rewritten; `make fmt` does).
	@files="$$(find . -path ./bin -prune -o -path ./.git -prune -o -type f -name '*.go' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$files" ]; then echo "not formatted with gofmt; run 'make fmt' and commit:"; echo "$$files"; exit 1; fi

verify-mod: ## Fail when go.mod or go.sum of the root, hack/k8s, hack/helm or test/monitoring module is not tidy (nothing is written).
	@rc=0; \
	go mod tidy -diff || { echo "go.mod/go.sum are not tidy; run 'go mod tidy' and commit"; rc=1; }; \
	(cd hack/k8s && go mod tidy -diff) || { echo "hack/k8s/go.mod/go.sum are not tidy; run 'go mod tidy' in hack/k8s and commit"; rc=1; }; \
	(cd test/monitoring && go mod tidy -diff) || { echo "test/monitoring/go.mod/go.sum are not tidy; run 'go mod tidy' in test/monitoring and commit"; rc=1; }; \
	(cd hack/helm && go mod tidy -diff) || { echo "hack/helm/go.mod/go.sum are not tidy; run 'go mod tidy' in hack/helm and commit"; rc=1; }; \
	exit $$rc

verify-golden: golden ## Regenerate the golden files and fail when they differ from the committed ones.
	@if [ -n "$$(git status --porcelain -- internal/render/testdata $(METRICS_GOLDEN))" ]; then \
		echo "golden files are stale; review 'git diff -- internal/render/testdata $(METRICS_GOLDEN)' and commit:"; \
		git status --porcelain -- internal/render/testdata $(METRICS_GOLDEN); exit 1; \
	fi

verify-k8s-version: ## Fail when go.mod files, scripts or docs disagree with the Kubernetes version of hack/k8s/go.mod.
	@hack/verify-k8s-version.sh

.PHONY: test
test: manifests generate vet setup-envtest kustomize helm-bin ## Run unit and envtest integration tests on a real kube-apiserver + etcd.
	KUBEBUILDER_ASSETS="$(K8S_BIN)" KUSTOMIZE="$(KUSTOMIZE)" HELM="$(HELM)" go test $$(go list ./... | grep -v /test/e2e) -coverprofile cover.out
	@$(MAKE) --no-print-directory test-monitoring

.PHONY: test-monitoring
test-monitoring: ## Parse every dashboard and rule query with Prometheus's parser, check its metric names, and unit-test the alerting and recording rules (module test/monitoring).
	cd test/monitoring && go test ./...

# Packages whose tests need no API server: no envtest, no kube binaries, no
# generated files refreshed first. Suites that start kube-apiserver (through
# internal/testenv) live in internal/controller and test/ and are left out.
UNIT_PACKAGES = ./api/... ./cmd/kalypso/... ./internal/apply/... ./internal/conditions/... \
	./internal/preview/... ./internal/render/... ./internal/triton/... \
	./internal/controller/application ./internal/controller/project ./internal/controller/tritonserver \
	./internal/controller/modelsync ./internal/tritonapi/... ./internal/faketriton/... ./internal/fleetstatus/... ./hack/krew/... \
	./internal/ociimage/...

.PHONY: test-unit
test-unit: ## Run the fast tests of the pure packages (renderers, Triton grammar, conditions, status logic, CLI); no kube binaries.
	env -u KUBEBUILDER_ASSETS go test $(UNIT_PACKAGES)

# Each fuzz target, as package:target. The committed corpora (testdata/fuzz)
# run as plain tests in `make test`, where test/integration also replays the
# renderers' corpus against the API server (server-side dry run).
FUZZ_TARGETS = ./internal/render:FuzzChildren ./internal/render:FuzzEnvChildren \
	./internal/triton:FuzzCheckArgs ./internal/triton:FuzzCheckParameter
FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Fuzz every renderer and the Triton validators for FUZZTIME each.
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg, $(FUZZTIME))"; \
		go test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

# The manager's metric families, which test/monitoring checks queries against.
METRICS_GOLDEN = test/monitoring/testdata/operator-metrics.txt

.PHONY: golden
golden: ## Regenerate the rendered-output golden files and the list of the manager's metric families.
	go test ./internal/render/... -run Golden -update
	go test ./internal/metrics/ -run TestExposedMetricNames -update

.PHONY: test-e2e
test-e2e: build setup-cluster-tools kustomize helm-bin ## Run end-to-end tests: a fresh local cluster (or E2E_KUBECONFIG), the manager as its ServiceAccount.
	K8S_BIN="$(K8S_BIN)" KWOK="$(KWOK)" KWOKCTL="$(KWOKCTL)" KUSTOMIZE="$(KUSTOMIZE)" KUBECTL="$(KUBECTL)" HELM="$(HELM)" \
		go test ./test/e2e/ -v -ginkgo.v -timeout 30m

# On a machine with Docker and kind: the same suite against a kind cluster.
KIND ?= kind
KIND_CLUSTER ?= kalypsoserving-test-e2e

.PHONY: test-e2e-kind
test-e2e-kind: build setup-envtest kustomize ## Run the e2e suite against a kind cluster (needs Docker and kind).
	@$(KIND) get clusters | grep -qx "$(KIND_CLUSTER)" || $(KIND) create cluster --name "$(KIND_CLUSTER)"
	$(KIND) get kubeconfig --name "$(KIND_CLUSTER)" > tmp/$(KIND_CLUSTER).kubeconfig
	E2E_KUBECONFIG=$(CURDIR)/tmp/$(KIND_CLUSTER).kubeconfig $(MAKE) --no-print-directory test-e2e

##@ Local cluster

LOCAL_CLUSTER_ENV = K8S_BIN="$(K8S_BIN)" KWOK="$(KWOK)" KWOKCTL="$(KWOKCTL)" KUSTOMIZE="$(KUSTOMIZE)" KUBECTL="$(KUBECTL)"
LOCAL_KUBECONFIG ?= $(CURDIR)/tmp/kalypso.kubeconfig

.PHONY: cluster-up
cluster-up: setup-cluster-tools ## Start a local cluster (etcd, apiserver, controller manager, scheduler, kwok nodes incl. GPUs).
	@$(LOCAL_CLUSTER_ENV) hack/local-cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and remove its state; no process is left behind.
	@$(LOCAL_CLUSTER_ENV) hack/run-local.sh stop
	@$(LOCAL_CLUSTER_ENV) hack/local-cluster.sh down

.PHONY: demo
demo: build setup-cluster-tools kustomize ## The main job: local cluster, the operator as its ServiceAccount, the samples, their status.
	@$(LOCAL_CLUSTER_ENV) hack/demo.sh

.PHONY: demo-down
demo-down: cluster-down ## Stop the demo (manager and local cluster).

BENCH_ARGS ?=

.PHONY: bench
bench: build setup-envtest kustomize ## Measure latency, writes, memory and restart against the API server's own limit (BENCH_ARGS="-n 1,100,1000 -n10k").
	KUBEBUILDER_ASSETS="$(K8S_BIN)" KUSTOMIZE="$(KUSTOMIZE)" go run ./test/bench $(BENCH_ARGS)

##@ Build

.PHONY: build
build: manifests generate vet ## Build the manager and the kalypso CLI.
	go build -o bin/manager ./cmd/manager
	go build -o bin/kalypso ./cmd/kalypso
	go build -o bin/faketriton ./hack/faketriton

# Release archives of the CLI, one per platform the krew manifest lists, each
# holding kubectl-kalypso (so `kubectl kalypso` finds it), then the manifest.
VERSION ?= v0.1.0
CLI_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
KREW_URL_BASE ?=
KREW_HOMEPAGE ?=

.PHONY: cli-dist
cli-dist: ## Cross-compile the kalypso CLI into release archives under dist/cli (VERSION=v...).
	@rm -rf dist/cli && mkdir -p dist/cli
	@for p in $(CLI_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; bin=kubectl-kalypso; [ "$$os" = windows ] && bin=$$bin.exe; \
		dir=$$(mktemp -d); \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o "$$dir/$$bin" ./cmd/kalypso; \
		tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$$dir" -czf "dist/cli/kubectl-kalypso_$(VERSION)_$${os}_$${arch}.tar.gz" "$$bin"; \
		rm -rf "$$dir"; echo "dist/cli/kubectl-kalypso_$(VERSION)_$${os}_$${arch}.tar.gz"; \
	done

.PHONY: krew-manifest
krew-manifest: ## Write dist/krew/kalypso.yaml for the archives of cli-dist (KREW_URL_BASE=https://... KREW_HOMEPAGE=https://...).
	@mkdir -p dist/krew
	go run ./hack/krew -version $(VERSION) -url-base "$(KREW_URL_BASE)" -homepage "$(KREW_HOMEPAGE)" -archives dist/cli -o dist/krew/kalypso.yaml

.PHONY: run
run: manifests generate vet setup-envtest ## Run the manager against the current kubeconfig, or a local cluster when there is none (or KALYPSO_LOCAL_CLUSTER=1).
	@if [ "$${KALYPSO_LOCAL_CLUSTER:-0}" = "1" ] || ! "$(KUBECTL)" get --raw /readyz >/dev/null 2>&1; then \
		echo "no usable kubeconfig (or KALYPSO_LOCAL_CLUSTER=1): starting the local cluster"; \
		$(MAKE) --no-print-directory cluster-up kustomize; \
		"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" --kubeconfig "$(LOCAL_KUBECONFIG)" apply --server-side -f - >/dev/null; \
		echo "CRDs installed; running the manager (stop with Ctrl-C, then make cluster-down)"; \
		echo "model status of the simulated pods comes from a fake Triton on 127.0.0.1:19000 (tmp/faketriton.log)"; \
		go build -o bin/faketriton ./hack/faketriton && \
		{ bin/faketriton --listen 127.0.0.1:19000 --kubeconfig "$(LOCAL_KUBECONFIG)" >tmp/faketriton.log 2>&1 & fake=$$!; \
		trap 'kill '$$fake EXIT; \
		go run ./cmd/manager --kubeconfig "$(LOCAL_KUBECONFIG)" --triton-address-map 10.0.0.0/8=127.0.0.1:19000; }; \
	else \
		go run ./cmd/manager; \
	fi

# Container images: with a Docker engine, buildx builds the Dockerfile for
# every platform. Without one, `oci-image` cross-compiles the static manager
# per platform and hack/image packs the binaries into a multi-architecture OCI
# image layout from an empty base (CA roots and the nonroot user come from Go
# modules, nothing is pulled), then checks the result. The cold cross-compile
# of two platforms costs minutes, so neither `make test` nor CI runs it; the
# builder's own test (internal/ociimage) runs in `make test` on stub binaries.
CONTAINER_TOOL ?= docker

.PHONY: docker-build
docker-build: ## Build the manager image for PLATFORMS (Docker buildx, or an OCI layout in bin/image without an engine).
	@if $(CONTAINER_TOOL) info >/dev/null 2>&1; then \
		$(CONTAINER_TOOL) buildx build --platform "$(PLATFORMS)" -t $(IMG) --load . ; \
	else \
		$(MAKE) --no-print-directory oci-image ; \
	fi

.PHONY: oci-image
oci-image: ## Build the manager image for PLATFORMS without an engine or a base image: bin/image/oci and bin/image/manager-image.tar.
	@set -e; args=""; rm -rf "$(IMAGE_DIR)/bin"; \
	for p in $$(echo "$(PLATFORMS)" | tr , ' '); do \
		os=$${p%/*}; arch=$${p#*/}; out="$(IMAGE_DIR)/bin/$$os-$$arch/manager"; \
		echo "go build ./cmd/manager for $$p"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "-s -w" -o "$$out" ./cmd/manager; \
		args="$$args -binary $$p=$$out"; \
	done; \
	go run ./hack/image $$args -out "$(IMAGE_DIR)/oci" -archive "$(IMAGE_DIR)/manager-image.tar" \
		-version "$(VERSION)" -revision "$(REVISION)"
	go run ./hack/image -verify "$(IMAGE_DIR)/oci" -platforms "$(PLATFORMS)"
	@echo "push it with: make docker-push IMG=<registry>/kalypso-serving:<tag>"

.PHONY: docker-push
docker-push: ## Push the manager image (Docker, or the bin/image/oci layout as one multi-architecture index with crane).
	@if $(CONTAINER_TOOL) info >/dev/null 2>&1; then \
		$(CONTAINER_TOOL) push $(IMG) ; \
	else \
		test -f "$(IMAGE_DIR)/oci/index.json" || $(MAKE) --no-print-directory oci-image ; \
		$(MAKE) --no-print-directory crane ; \
		"$(CRANE)" push --index "$(IMAGE_DIR)/oci" $(IMG) ; \
	fi

.PHONY: helm
helm: manifests helm-bin ## Lint the Helm chart and render it, with the default values and with every optional part on.
	"$(HELM)" lint --strict "$(CHART)"
	"$(HELM)" lint --strict "$(CHART)" -f "$(CHART)/ci/all-on-values.yaml"
	"$(HELM)" template kalypso-serving "$(CHART)" -n kalypso-serving-system >/dev/null
	"$(HELM)" template kalypso-serving "$(CHART)" -n kalypso-serving-system -f "$(CHART)/ci/all-on-values.yaml" >/dev/null
	@echo "$(CHART): lint and template passed (defaults; every optional part on)"

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml with CRDs and the deployment.
	mkdir -p dist
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=$(IMG)
	"$(KUSTOMIZE)" build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize setup-envtest ## Install CRDs into the cluster in ~/.kube/config.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize setup-envtest ## Uninstall CRDs.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize setup-envtest ## Deploy the controller to the cluster.
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=$(IMG)
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize setup-envtest ## Undeploy the controller.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

.PHONY: setup-envtest
setup-envtest: ## Build kube-apiserver, etcd and kubectl from Go modules (cached) and print KUBEBUILDER_ASSETS.
	@hack/k8s/build.sh "$(K8S_BIN)" $(ENVTEST_COMPONENTS)
	@echo "KUBEBUILDER_ASSETS=$(K8S_BIN)"

.PHONY: setup-cluster-tools
setup-cluster-tools: kwok ## Build every local-cluster binary (adds controller manager, scheduler, kwok).
	@hack/k8s/build.sh "$(K8S_BIN)" $(CLUSTER_COMPONENTS)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE)
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: ginkgo
ginkgo: $(GINKGO)
$(GINKGO): | $(LOCALBIN)
	$(call go-install-tool,$(GINKGO),github.com/onsi/ginkgo/v2/ginkgo,$(GINKGO_VERSION))

.PHONY: kwok
kwok: $(KWOK) $(KWOKCTL)
$(KWOK): | $(LOCALBIN)
	$(call go-install-tool,$(KWOK),sigs.k8s.io/kwok/cmd/kwok,$(KWOK_VERSION))
$(KWOKCTL): | $(LOCALBIN)
	$(call go-install-tool,$(KWOKCTL),sigs.k8s.io/kwok/cmd/kwokctl,$(KWOK_VERSION))

.PHONY: helm-bin
helm-bin: $(HELM)
$(HELM): | $(LOCALBIN)
	hack/helm/build.sh "$(HELM)" "$(HELM_VERSION)"

.PHONY: crane
crane: $(CRANE)
$(CRANE): | $(LOCALBIN)
	$(call go-install-tool,$(CRANE),github.com/google/go-containerregistry/cmd/crane,$(CRANE_VERSION))

# go-install-tool installs a Go module's command into bin/ with a versioned name.
# $1 target path, $2 package, $3 version.
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
echo "Installing $(2)@$(3)" ; \
rm -f "$(1)" ; \
GOBIN="$(LOCALBIN)" go install "$(2)@$(3)" ; \
mv "$$(echo "$(1)" | sed "s/-$(3)$$//")" "$(1)" ; \
}
endef
