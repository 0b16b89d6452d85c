#!/usr/bin/env bash
# Builds real Kubernetes control-plane binaries from Go modules into a cache
# directory, skipping the ones already present.
#
#   hack/k8s/build.sh <dest-dir> <component>...
#
# Components: kube-apiserver etcd kubectl kube-controller-manager kube-scheduler.
# The version is the k8s.io/kubernetes requirement of go.mod next to this
# script (see version.sh); the Makefile names <dest-dir> after it.
# Built without -trimpath so that the project's own test builds reuse the
# compiled Kubernetes packages from the Go build cache.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$1"
shift
mkdir -p "${dest}"
dest="$(cd "${dest}" && pwd)"

k8s_version="$("${here}/version.sh")"
numbers="${k8s_version#v}"
major="${numbers%%.*}"
minor="${numbers#*.}"
minor="${minor%%.*}"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X ${pkg}.gitVersion=${k8s_version} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
	ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done

cd "${here}"
for component in "$@"; do
	if [[ -x "${dest}/${component}" ]]; then
		continue
	fi
	case "${component}" in
	etcd) pkg="go.etcd.io/etcd/server/v3" ;;
	kube-apiserver | kube-controller-manager | kube-scheduler | kubectl) pkg="k8s.io/kubernetes/cmd/${component}" ;;
	*)
		echo "unknown component ${component}" >&2
		exit 2
		;;
	esac
	echo "building ${component} (${pkg}) into ${dest}" >&2
	start=$(date +%s)
	go build -mod=readonly -ldflags "${ldflags}" -o "${dest}/${component}.tmp" "${pkg}"
	mv "${dest}/${component}.tmp" "${dest}/${component}"
	echo "built ${component} in $(($(date +%s) - start))s" >&2
done
