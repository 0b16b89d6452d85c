package render

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// When the operator loads the declared models, the pod template carries
// neither the set nor anything derived from it: editing the set changes no
// template (no restart), and a readiness gate holds traffic back.
func TestDeploymentOperatorLoadsModels(t *testing.T) {
	withModels := func(models ...string) Input {
		s := spec(func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			s.TritonConfig.ModelControl = &servingv1alpha1.ModelControl{Mode: servingv1alpha1.ModelControlExplicit,
				Models: models, UnloadUndeclared: ptr.To(false)}
		})
		return Input{Server: &servingv1alpha1.KalypsoTritonServer{
			ObjectMeta: metav1.ObjectMeta{Name: "srv", Namespace: "ns", UID: "u"}, Spec: s}}
	}
	for _, loads := range []bool{true, false} {
		a, b := withModels("a", "b"), withModels("c")
		a.OperatorLoadsModels, b.OperatorLoadsModels = loads, loads
		depA, err := Deployment(a)
		if err != nil {
			t.Fatal(err)
		}
		depB, err := Deployment(b)
		if err != nil {
			t.Fatal(err)
		}
		args := depA.Spec.Template.Spec.Containers[0].Args
		hasLoad := slices.ContainsFunc(args, func(s string) bool { return strings.HasPrefix(s, "--load-model") })
		gates := depA.Spec.Template.Spec.ReadinessGates
		sameTemplate := depA.Annotations[AnnotationTemplateHash] == depB.Annotations[AnnotationTemplateHash]
		if loads {
			if hasLoad || len(gates) != 1 || *gates[0].ConditionType != ModelsReadyGate || !sameTemplate ||
				!slices.Contains(args, "--model-control-mode=explicit") {
				t.Errorf("operator loads: args %v, gates %v, same template %v", args, gates, sameTemplate)
			}
			continue
		}
		if !slices.Contains(args, "--load-model=a") || len(gates) != 0 || sameTemplate {
			t.Errorf("Triton loads at start: args %v, gates %v, same template %v", args, gates, sameTemplate)
		}
	}
	none := withModels()
	none.Server.Spec.TritonConfig.ModelControl = nil
	none.OperatorLoadsModels = true
	dep, err := Deployment(none)
	if err != nil || len(dep.Spec.Template.Spec.ReadinessGates) != 0 {
		t.Fatalf("modes none and poll get no gate: %v %v", err, dep.Spec.Template.Spec.ReadinessGates)
	}
}

// The operator's namespace is admitted to the port named http only.
func TestNetworkPolicyOperatorRule(t *testing.T) {
	p := &servingv1alpha1.KalypsoProject{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "u"}}
	np := NetworkPolicy(EnvInput{Project: p, Env: servingv1alpha1.Environment{Name: "dev"}, OperatorNamespace: "kalypso-system"})
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("want the default rule and the operator's, got %d", len(np.Spec.Ingress))
	}
	rule := np.Spec.Ingress[1]
	if len(rule.From) != 1 || rule.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "kalypso-system" ||
		len(rule.Ports) != 1 || rule.Ports[0].Port.String() != "http" || string(*rule.Ports[0].Protocol) != "TCP" {
		t.Fatalf("operator rule: %+v", rule)
	}
	if off := NetworkPolicy(EnvInput{Project: p, Env: servingv1alpha1.Environment{Name: "dev"}}); len(off.Spec.Ingress) != 1 {
		t.Fatal("without model reading nothing new is admitted")
	}
}
