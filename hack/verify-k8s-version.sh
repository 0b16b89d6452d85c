#!/usr/bin/env bash
# Fails when something in the repository disagrees with the Kubernetes
# version defined in hack/k8s/go.mod (printed by hack/k8s/version.sh):
#
#  - the replace block of hack/k8s/go.mod must pin every k8s.io staging
#    module at the matching v0.MINOR.PATCH, or the binaries mix releases;
#  - the root go.mod's k8s.io client libraries must be of the same minor
#    release as the API server the tests run against;
#  - any Kubernetes version written out in a file (docs, scripts, Go code),
#    such as a version after "kube-apiserver" or in a "bin/k8s/" path, must be
#    this one.
#
# Run by `make verify`. Nothing is written.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version="$(hack/k8s/version.sh)"
ver="${version#v}"
major="${ver%%.*}"
rest="${ver#*.}"
minor="${rest%%.*}"
patch="${rest#*.}"
staging="v0.${minor}.${patch}"
failed=0
fail() {
	echo "$*" >&2
	failed=1
}

# 1. The staging modules the tool module replaces.
while read -r mod have; do
	[[ "${have}" == "${staging}" ]] || fail "hack/k8s/go.mod: replace ${mod} => ${have}, want ${staging} (k8s.io/kubernetes ${version})"
done < <(awk '$2 == "=>" && $1 ~ /^k8s\.io\// && $3 == $1 { print $1, $4 }' hack/k8s/go.mod)

# 2. The client libraries of the project itself.
for mod in k8s.io/api k8s.io/apimachinery k8s.io/client-go k8s.io/apiextensions-apiserver; do
	have="$(awk -v m="${mod}" '$1 == m && $2 ~ /^v/ { print $2; exit }' go.mod)"
	[[ -z "${have}" ]] && continue
	case "${have}" in
	"v0.${minor}".*) ;;
	*) fail "go.mod: ${mod} ${have} is not of the Kubernetes ${major}.${minor} release the tests run against (${version})" ;;
	esac
done

# 3. Versions written out next to a mention of Kubernetes, in any file of the
# repository outside bin/, tmp/ and the module files.
pattern='(kube|k8s)[^"]{0,80}v?1\.[0-9]{2}\.[0-9]+|v?1\.[0-9]{2}\.[0-9]+[^"]{0,40}(kube|k8s)'
while IFS= read -r line; do
	file="${line%%:*}"
	rest="${line#*:}"
	lineno="${rest%%:*}"
	text="${rest#*:}"
	for found in $(grep -oE 'v?1\.[0-9]{2}\.[0-9]+' <<<"${text}"); do
		[[ "v${found#v}" == "${version}" ]] || fail "${file}:${lineno}: Kubernetes ${found} written out, want ${version}:${text}"
	done
done < <(git grep -nIiE --untracked "${pattern}" -- . ':!bin/' ':!tmp/' ':!go.mod' ':!go.sum' ':!hack/k8s/go.mod' ':!hack/k8s/go.sum' || true)

if [[ "${failed}" != 0 ]]; then
	echo "the Kubernetes version is defined by k8s.io/kubernetes in hack/k8s/go.mod (${version}); make the above agree with it" >&2
	exit 1
fi
echo "Kubernetes ${version}: hack/k8s replace block, go.mod client libraries and written-out versions agree"
