#!/usr/bin/env bash
# Copies into the Helm chart's files/ the manifests it reads with .Files and
# must never hold hand-made copies of: the CRDs, the manager's generated
# ClusterRole, the user roles and the admission policy from config/, and the
# Grafana dashboards and Prometheus rules when they exist. `make manifests`
# runs it, so `make verify` reports a chart left behind by config/.
#
#   hack/helm/sync-chart.sh [chart-dir]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
chart="${1:-${root}/charts/kalypso-serving}"
files="${chart}/files"

# copy <dest-dir> <source>...: replaces dest-dir's content with the sources.
copy() {
	local dest="$1"
	shift
	rm -rf "${dest}"
	mkdir -p "${dest}"
	cp "$@" "${dest}/"
}

copy "${files}/crds" "${root}"/config/crd/bases/*.yaml
copy "${files}/rbac" "${root}/config/rbac/role.yaml" "${root}"/config/rbac/kalypso_*_role.yaml
copy "${files}/admission-policy" "${root}/config/admission-policy/policy.yaml"

# The monitoring files are optional inputs: the chart's templates fail with
# a clear message when their part is switched on and the file is absent.
shopt -s nullglob
dashboards=("${root}"/config/grafana/dashboards/*.json)
rm -rf "${files}/dashboards" "${files}/prometheus"
if ((${#dashboards[@]})); then
	copy "${files}/dashboards" "${dashboards[@]}"
fi
if [[ -f "${root}/config/prometheus/rules.yaml" ]]; then
	copy "${files}/prometheus" "${root}/config/prometheus/rules.yaml"
fi
