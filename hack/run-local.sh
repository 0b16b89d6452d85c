#!/usr/bin/env bash
# Installs the CRDs and the manager's RBAC on a cluster and runs the manager
# binary as a local process authenticated as its own ServiceAccount (a token
# from the TokenRequest API), never as the cluster admin.
#
#   hack/run-local.sh install <admin-kubeconfig>            install CRDs + RBAC, write the manager's kubeconfig
#   hack/run-local.sh start <admin-kubeconfig> [args...]    install, then start bin/manager in the background
#   hack/run-local.sh stop                                  stop that manager
#
# The local cluster's pod IPs are simulated (kwok): nothing may send traffic
# to them. So the manager reads Triton's model status from one fake Triton on
# loopback (bin/faketriton), to which --triton-address-map sends every pod
# address of 10.0.0.0/8; the fake tells pods apart by the address asked for.
#
# Environment: KUSTOMIZE, KUBECTL, STATE (tmp/manager), FAKE_TRITON_PORT (19000).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kustomize="${KUSTOMIZE:?set KUSTOMIZE}"
kubectl="${KUBECTL:?set KUBECTL}"
state="${STATE:-${root}/tmp/manager}"
fake_port="${FAKE_TRITON_PORT:-19000}"
ns=kalypso-serving-system
sa=kalypso-serving-controller-manager

install() {
	local admin="$1"
	mkdir -p "${state}"
	"${kustomize}" build "${root}/config/local" | "${kubectl}" --kubeconfig "${admin}" apply --server-side -f - >/dev/null
	"${kubectl}" --kubeconfig "${admin}" wait --for=condition=Established crd --all --timeout=60s >/dev/null
	local token server ca
	token="$("${kubectl}" --kubeconfig "${admin}" -n "${ns}" create token "${sa}" --duration=24h)"
	server="$("${kubectl}" --kubeconfig "${admin}" config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')"
	ca="$("${kubectl}" --kubeconfig "${admin}" config view --minify --raw --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
	umask 077
	cat >"${state}/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: ${sa}
  user:
    token: ${token}
contexts:
- name: manager
  context: {cluster: local, user: ${sa}, namespace: ${ns}}
current-context: manager
KUBECONFIG
	echo "manager kubeconfig (ServiceAccount ${ns}/${sa}): ${state}/kubeconfig"
}

start() {
	local admin="$1"
	shift
	install "${admin}"
	stop >/dev/null
	"${root}/bin/faketriton" --listen "127.0.0.1:${fake_port}" --kubeconfig "${admin}" >"${state}/faketriton.log" 2>&1 &
	echo $! >"${state}/faketriton.pid"
	"${root}/bin/manager" --kubeconfig "${state}/kubeconfig" --leader-elect --leader-election-namespace "${ns}" \
		--health-probe-bind-address 127.0.0.1:0 --metrics-bind-address 0 \
		--triton-address-map "10.0.0.0/8=127.0.0.1:${fake_port}" "$@" >"${state}/manager.log" 2>&1 &
	echo $! >"${state}/manager.pid"
	sleep 2
	if ! kill -0 "$(cat "${state}/manager.pid")" 2>/dev/null; then
		echo "the manager exited at start:" >&2
		tail -20 "${state}/manager.log" >&2
		exit 1
	fi
	if ! kill -0 "$(cat "${state}/faketriton.pid")" 2>/dev/null; then
		echo "the fake Triton exited at start:" >&2
		tail -20 "${state}/faketriton.log" >&2
		exit 1
	fi
	echo "manager running (pid $(cat "${state}/manager.pid")), logs: ${state}/manager.log"
	echo "fake Triton for the simulated pods on 127.0.0.1:${fake_port}, logs: ${state}/faketriton.log"
}

stop() {
	if [[ -f "${state}/manager.pid" ]]; then
		kill "$(cat "${state}/manager.pid")" 2>/dev/null || true
		rm -f "${state}/manager.pid"
		echo "manager stopped"
	fi
	if [[ -f "${state}/faketriton.pid" ]]; then
		kill "$(cat "${state}/faketriton.pid")" 2>/dev/null || true
		rm -f "${state}/faketriton.pid"
	fi
}

case "${1:-}" in
install) install "$2" ;;
start)
	shift
	start "$@"
	;;
stop) stop ;;
*)
	echo "usage: $0 install|start|stop" >&2
	exit 2
	;;
esac
