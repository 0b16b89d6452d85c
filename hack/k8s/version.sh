#!/usr/bin/env bash
# Prints the Kubernetes version KalypsoServing builds its control-plane
# binaries from and tests against, as a vX.Y.Z tag.
#
# The one place it is defined is the k8s.io/kubernetes requirement in
# hack/k8s/go.mod; the Makefile, hack/k8s/build.sh and hack/local-cluster.sh
# read it through this script, and hack/verify-k8s-version.sh checks that
# everything else agrees with it. Change the version with `go get` in
# hack/k8s (then update the replace block and run `make verify`).
set -euo pipefail

gomod="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/go.mod"
version="$(awk '
	$1 == "k8s.io/kubernetes" && $2 ~ /^v[0-9]/ { print $2; exit }
	$1 == "require" && $2 == "k8s.io/kubernetes" && $3 ~ /^v[0-9]/ { print $3; exit }
' "${gomod}")"
if [[ ! "${version}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "no k8s.io/kubernetes vX.Y.Z requirement found in ${gomod}" >&2
	exit 1
fi
echo "${version}"
