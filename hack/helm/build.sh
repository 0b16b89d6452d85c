#!/usr/bin/env bash
# Builds the Helm CLI that go.mod next to this script requires into <dest>.
#
#   hack/helm/build.sh <dest> <version>
#
# <version> is the Makefile's HELM_VERSION; the build fails when go.mod
# requires another one, so the binary's name never lies about its version.
# Like Helm's own release builds, it stamps the version and the Kubernetes
# version that `helm template` and `helm lint` assume without a cluster
# (that of the k8s.io/client-go Helm is built with, not Helm's 1.20
# fallback), so charts that require a recent Kubernetes render offline.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$1"
want="$2"
cd "${here}"

version="$(go list -mod=readonly -m -f '{{.Version}}' helm.sh/helm/v3)"
if [[ "${version}" != "${want}" ]]; then
	echo "hack/helm/go.mod requires helm.sh/helm/v3 ${version}, the Makefile asks for ${want}: keep them in step" >&2
	exit 1
fi
# client-go v0.N.x is Kubernetes 1.N.
client_go="$(go list -mod=readonly -m -f '{{.Version}}' k8s.io/client-go)"
minor="${client_go#v0.}"
minor="${minor%%.*}"

ldflags="-X helm.sh/helm/v3/internal/version.version=${version}"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
	ldflags+=" -X ${pkg}.k8sVersionMajor=1 -X ${pkg}.k8sVersionMinor=${minor}"
done
go build -mod=readonly -ldflags "${ldflags}" -o "${dest}.tmp" helm.sh/helm/v3/cmd/helm
mv "${dest}.tmp" "${dest}"
echo "built helm ${version} (Kubernetes 1.${minor} assumed offline) into ${dest}" >&2
