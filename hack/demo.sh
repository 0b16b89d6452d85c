#!/usr/bin/env bash
# make demo: a local cluster, the operator running as its own ServiceAccount,
# the samples applied, and what they became.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kubectl="${KUBECTL:?}"
admin="${root}/tmp/kalypso.kubeconfig"
k() { "${kubectl}" --kubeconfig "${admin}" "$@"; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Local cluster (kube-apiserver, etcd, controller manager, scheduler built from Go modules; kwok nodes)"
"${root}/hack/local-cluster.sh" up

step "Operator (bin/manager as ServiceAccount kalypso-serving-system/kalypso-serving-controller-manager)"
"${root}/hack/run-local.sh" start "${admin}"

step "Samples"
k apply -f "${root}/config/samples/serving_v1alpha1_kalypsoproject.yaml"
for i in $(seq 1 60); do
	k get namespace sample-project-dev >/dev/null 2>&1 && break
	sleep 1
done
k get namespace sample-project-dev >/dev/null
k apply -f "${root}/hack/local-cluster/demo-secret.yaml"
k apply -f "${root}/config/samples/serving_v1alpha1_kalypsoapplication.yaml"
k apply -f "${root}/config/samples/serving_v1alpha1_kalypsotritonserver.yaml"
if ! k -n sample-project-dev wait --for=condition=Ready kalypsotritonserver/recommendation-v1 --timeout=120s; then
	echo "the server did not become Ready; manager log: ${root}/tmp/manager/manager.log" >&2
fi

step "A server in model control mode explicit (hack/local-cluster/demo-models.yaml)"
k apply -f "${root}/hack/local-cluster/demo-models.yaml"
for i in $(seq 1 60); do
	[[ "$(k -n sample-project-dev get kalypsotritonserver ranking-v2 -o jsonpath='{.status.modelsReady}' 2>/dev/null)" == "2/3" ]] && break
	sleep 1
done

step "kubectl get kalypsoprojects"
k get kalypsoprojects
step "kubectl get namespaces -l kalypso-serving.io/project=sample-project"
k get namespaces -l kalypso-serving.io/project=sample-project -L kalypso-serving.io/environment,pod-security.kubernetes.io/enforce
step "kubectl -n sample-project-dev get resourcequota,limitrange,networkpolicy,rolebinding"
k -n sample-project-dev get resourcequota,limitrange,networkpolicy,rolebinding
step "kubectl -n sample-project-dev get kalypsoapplications"
k -n sample-project-dev get kalypsoapplications
step "kubectl -n sample-project-dev get kalypsotritonservers"
k -n sample-project-dev get kalypsotritonservers
step "kubectl -n sample-project-dev get kalypsotritonserver ranking-v2 -o jsonpath (per-model status)"
k -n sample-project-dev get kalypsotritonserver ranking-v2 \
	-o jsonpath='{range .status.models[*]}{.name}{"\t"}{.state}{"\t"}{.readyReplicas}{" replicas\t"}{.reason}{"\n"}{end}'
step "kubectl -n sample-project-dev get kalypsotritonserver ranking-v2 -o jsonpath (ModelsReady)"
k -n sample-project-dev get kalypsotritonserver ranking-v2 \
	-o jsonpath='{range .status.conditions[?(@.type=="ModelsReady")]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'
step "kubectl -n sample-project-dev get deployments,services,pdb,pods"
k -n sample-project-dev get deployments,services,pdb,pods -o wide

step "kalypso status -A (what is serving and what is broken)"
"${root}/bin/kalypso" status -A --kubeconfig "${admin}"

cat <<MSG

The operator is running. Explore:
  export KUBECONFIG=${admin}
  ${kubectl} get kalypso -A
  ${root}/bin/kalypso status -A --watch
  ${kubectl} -n sample-project-dev scale kalypsotritonserver recommendation-v1 --replicas=3
  ${kubectl} -n sample-project-dev describe kalypsotritonserver recommendation-v1
  tail -f ${root}/tmp/manager/manager.log

Stop everything:
  make demo-down
MSG
