#!/usr/bin/env bash
# A local Kubernetes cluster of real components built from Go modules:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler from
# bin/k8s/<version>, with kwok simulating nodes and pod lifecycles. kwokctl's
# binary runtime runs them as local processes; nothing is downloaded.
#
#   hack/local-cluster.sh up     create (or reuse) the cluster and its nodes
#   hack/local-cluster.sh down   stop every process and remove the state
#
# Environment: CLUSTER_NAME (kalypso), K8S_BIN, KWOK, KWOKCTL, KUBECONFIG_OUT
# (tmp/<name>.kubeconfig), KWOK_WORKDIR (tmp/kwok).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="${CLUSTER_NAME:-kalypso}"
k8s_bin="${K8S_BIN:-${root}/bin/k8s/$("${root}/hack/k8s/version.sh")}"
kwok="${KWOK:?set KWOK to the kwok binary (make cluster-up does)}"
kwokctl="${KWOKCTL:?set KWOKCTL to the kwokctl binary (make cluster-up does)}"
kubeconfig="${KUBECONFIG_OUT:-${root}/tmp/${name}.kubeconfig}"
export KWOK_WORKDIR="${KWOK_WORKDIR:-${root}/tmp/kwok}"
# kwokctl runs kubectl from PATH.
export PATH="${k8s_bin}:${PATH}"

up() {
	mkdir -p "$(dirname "${kubeconfig}")" "${KWOK_WORKDIR}"
	if "${kwokctl}" get clusters 2>/dev/null | grep -qx "${name}" && kubectl --kubeconfig "${kubeconfig}" get --raw /readyz >/dev/null 2>&1; then
		echo "cluster ${name} is already running (kubeconfig ${kubeconfig})"
	else
		"${kwokctl}" delete cluster --name "${name}" >/dev/null 2>&1 || true
		"${kwokctl}" create cluster --name "${name}" --runtime binary \
			--config "${root}/hack/local-cluster/kwokctl.yaml" \
			--kube-apiserver-binary "${k8s_bin}/kube-apiserver" \
			--etcd-binary "${k8s_bin}/etcd" \
			--kube-controller-manager-binary "${k8s_bin}/kube-controller-manager" \
			--kube-scheduler-binary "${k8s_bin}/kube-scheduler" \
			--kwok-controller-binary "${kwok}" \
			--kubeconfig "${kubeconfig}" --wait 120s >"${KWOK_WORKDIR}/${name}-create.log" 2>&1 ||
			{ cat "${KWOK_WORKDIR}/${name}-create.log" >&2; exit 1; }
	fi
	kubectl --kubeconfig "${kubeconfig}" apply --server-side -f "${root}/hack/local-cluster/nodes.yaml" >/dev/null
	kubectl --kubeconfig "${kubeconfig}" wait --for=condition=Ready node --all --timeout=60s >/dev/null
	echo "cluster ${name} is up: KUBECONFIG=${kubeconfig}"
	kubectl --kubeconfig "${kubeconfig}" get nodes -L nvidia.com/gpu.product
}

down() {
	if [[ -x "${kwokctl}" ]]; then
		"${kwokctl}" delete cluster --name "${name}" >/dev/null 2>&1 || true
	fi
	# Wait until every component of this cluster has exited.
	for _ in $(seq 1 50); do
		pgrep -f "${KWOK_WORKDIR}/clusters/${name}/" >/dev/null || break
		sleep 0.2
	done
	rm -rf "${KWOK_WORKDIR}/clusters/${name}" "${kubeconfig}"
	echo "cluster ${name} is down"
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
