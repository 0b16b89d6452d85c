package fleetstatus

import (
	"bytes"
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller"
)

func ready(reason, msg string, ok bool) []metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return []metav1.Condition{{Type: servingv1alpha1.ConditionReady, Status: s, Reason: reason, Message: msg}}
}

func fleet() ([]servingv1alpha1.KalypsoProject, []servingv1alpha1.KalypsoApplication, []servingv1alpha1.KalypsoTritonServer) {
	proj := servingv1alpha1.KalypsoProject{ObjectMeta: metav1.ObjectMeta{Name: "shop"},
		Spec: servingv1alpha1.KalypsoProjectSpec{Environments: []servingv1alpha1.Environment{{Name: "dev"}, {Name: "prod"}}},
		Status: servingv1alpha1.KalypsoProjectStatus{Phase: servingv1alpha1.PhaseReady,
			Conditions: ready(servingv1alpha1.ReasonReconciled, "", true)}}
	app := func(ns, name string) servingv1alpha1.KalypsoApplication {
		return servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Status: servingv1alpha1.KalypsoApplicationStatus{Phase: servingv1alpha1.PhaseReady, Servers: 2, ReadyServers: 1,
				Models: 3, ReadyModels: 2, Conditions: ready(servingv1alpha1.ReasonReconciled, "", true)}}
	}
	srv := func(ns, name, app string, ok bool) servingv1alpha1.KalypsoTritonServer {
		s := servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1},
			Spec: servingv1alpha1.KalypsoTritonServerSpec{ApplicationRef: servingv1alpha1.LocalObjectReference{Name: app}},
			Status: servingv1alpha1.KalypsoTritonServerStatus{ObservedGeneration: 1, Phase: servingv1alpha1.PhaseReady,
				Replicas: 2, AvailableReplicas: 2, ModelsReady: "2/2", Conditions: ready(servingv1alpha1.ReasonReconciled, "", true)}}
		if !ok {
			s.Status.Phase, s.Status.ModelsReady = servingv1alpha1.PhaseProgressing, "2/3"
			s.Status.Conditions = ready(servingv1alpha1.ReasonModelsNotReady,
				"1 of 3 models not ready; model reranker is UNAVAILABLE on 2 of 2 replicas: failed to load", false)
		}
		return s
	}
	apps := []servingv1alpha1.KalypsoApplication{app("shop-dev", "ranking"), app("loose", "tools")}
	servers := []servingv1alpha1.KalypsoTritonServer{srv("shop-dev", "v2", "ranking", false), srv("shop-dev", "v1", "ranking", true),
		srv("loose", "x", "missing-app", true)}
	return []servingv1alpha1.KalypsoProject{proj}, apps, servers
}

func TestBuildAndPrint(t *testing.T) {
	projects, apps, servers := fleet()
	tree := Build(projects, apps, servers, "")
	var out bytes.Buffer
	if err := Print(&out, tree); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"shop", "├─ dev (shop-dev)", "│  └─ ranking", "servers 1/2, models 2/3",
		"│     ├─ v1", "│     └─ v2", "replicas 2/2, models 2/3",
		"ModelsNotReady: 1 of 3 models not ready; model reranker is UNAVAILABLE",
		"└─ prod (shop-prod)", NoProject, "└─ loose (loose)", "missing-app", "ApplicationNotFound", "tools",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if strings.Index(text, "v1") > strings.Index(text, "v2") || strings.Index(text, "shop") > strings.Index(text, NoProject) {
		t.Errorf("order:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "── v1") && strings.Contains(line, "Reconciled") {
			t.Errorf("a Ready server shows no reason: %q", line)
		}
	}
}

func TestBuildOneNamespace(t *testing.T) {
	projects, apps, servers := fleet()
	tree := Build(projects, apps, servers, "shop-dev")
	if len(tree.Projects) != 1 || len(tree.Projects[0].Environments) != 1 || tree.Projects[0].Environments[0].Namespace != "shop-dev" {
		t.Fatalf("namespace filter: %+v", tree)
	}
	if tree := Build(projects, nil, nil, "elsewhere"); len(tree.Projects) != 0 {
		t.Fatalf("a namespace no project governs and holding nothing: %+v", tree)
	}
}

func TestStaleGenerationIsNotReady(t *testing.T) {
	_, _, servers := fleet()
	servers[1].Generation = 2
	s := serverOf(&servers[1])
	if s.Ready || !strings.Contains(s.Message, "latest spec") {
		t.Fatalf("a status older than the spec is not Ready: %+v", s)
	}
}

func TestCollect(t *testing.T) {
	projects, apps, servers := fleet()
	b := fake.NewClientBuilder().WithScheme(controller.Scheme())
	for i := range projects {
		b.WithObjects(&projects[i])
	}
	for i := range apps {
		b.WithObjects(&apps[i])
	}
	for i := range servers {
		b.WithObjects(&servers[i])
	}
	tree, err := Collect(context.Background(), b.Build(), "shop-dev")
	if err != nil {
		t.Fatal(err)
	}
	items := tree.Projects[0].Environments[0].Applications[0].Items
	if len(items) != 2 || items[0].Name != "v1" || !items[0].Ready || items[1].Ready || items[1].Reason != servingv1alpha1.ReasonModelsNotReady {
		t.Fatalf("collected: %+v", items)
	}
}
