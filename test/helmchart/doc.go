// Package helmchart keeps the Helm chart (charts/kalypso-serving) and the
// kustomize configuration (config/) from drifting apart. Its tests render
// both with the real binaries, helm template and kustomize build, and
// compare what each would install: with the chart's default values, every
// object of config/default, with the same RBAC rules and bindings, the same
// CRDs byte for byte, and the same manager pod spec (image aside); with its
// optional parts on, config/prometheus' ServiceMonitor, the rules and the
// dashboards of config/.
//
// `make test` builds both binaries and names them in HELM and KUSTOMIZE.
// Without them the tests skip, except under CI=true, where they fail.
package helmchart
