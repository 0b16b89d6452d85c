package reliability

import (
	"fmt"
	"math/rand"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

const (
	transitionSeed      = 20260501
	transitionSequences = 30
	editsPerSequence    = 5
)

// specEdit is one valid change of a server's spec; it returns what it did.
type specEdit func(s *servingv1alpha1.KalypsoTritonServerSpec) string

var (
	editTags     = []string{"", "24.12-py3", "25.01-py3", "25.02-py3"}
	editBackends = []servingv1alpha1.BackendType{servingv1alpha1.BackendPython, servingv1alpha1.BackendONNXRuntime,
		servingv1alpha1.BackendPyTorch, servingv1alpha1.BackendVLLM, servingv1alpha1.BackendTensorRTLLM}
)

// randomEdit draws an edit. The draw depends only on rng; the edit reads
// the spec it is applied to so that the result stays valid (replicas
// within the autoscaling range).
func randomEdit(rng *rand.Rand, server string) specEdit {
	n := rng.Intn(1000)
	switch rng.Intn(7) {
	case 0:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			s.TritonConfig.Tag = editTags[n%len(editTags)]
			return fmt.Sprintf("tag=%q", s.TritonConfig.Tag)
		}
	case 1:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			r := 1 + int32(n%4)
			if a := s.Autoscaling; a != nil {
				r = a.MinReplicas + int32(n)%(a.MaxReplicas-a.MinReplicas+1)
			}
			s.Replicas = ptr.To(r)
			return fmt.Sprintf("replicas=%d", r)
		}
	case 2:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			if s.Autoscaling != nil {
				s.Autoscaling = nil
				return "autoscaling off"
			}
			maxReplicas := ptr.Deref(s.Replicas, 1) + int32(n%3)
			s.Autoscaling = &servingv1alpha1.Autoscaling{MinReplicas: 1, MaxReplicas: maxReplicas,
				TargetCPUUtilizationPercentage: ptr.To[int32](70)}
			if s.Resources.Requests == nil {
				s.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}
			}
			return fmt.Sprintf("autoscaling on (1..%d)", maxReplicas)
		}
	case 3:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			if s.PodDisruptionBudget != nil {
				s.PodDisruptionBudget = nil
				return "podDisruptionBudget unset"
			}
			mu := intstr.FromInt32(2)
			if n%2 == 1 {
				mu = intstr.FromString("50%")
			}
			s.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudget{MaxUnavailable: &mu}
			return "podDisruptionBudget.maxUnavailable=" + mu.String()
		}
	case 4:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			if s.Observability != nil {
				s.Observability = nil
				return "serviceMonitor off"
			}
			s.Observability = &servingv1alpha1.Observability{Metrics: &servingv1alpha1.Metrics{
				ServiceMonitor: &servingv1alpha1.ServiceMonitor{Enabled: true, Interval: fmt.Sprintf("%ds", 10+n%50)}}}
			return "serviceMonitor on"
		}
	case 5:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			s.StorageURI = fmt.Sprintf("s3://models/%s/v%d", server, n%5)
			return "storageUri=" + s.StorageURI
		}
	default:
		return func(s *servingv1alpha1.KalypsoTritonServerSpec) string {
			s.TritonConfig.BackendType = editBackends[n%len(editBackends)]
			return "backendType=" + string(s.TritonConfig.BackendType)
		}
	}
}

func transitionSpecs() {
	It("leaves exactly the children the final spec asks for after random spec-transition sequences", func() {
		installServiceMonitorCRD()
		ns := createNamespace("rel-transitions")
		DeferCleanup(cleanupServers, ns)
		createStorage(ns, fixture.FakeValue)
		const name = "seq"
		Expect(k8sClient.Create(ctx, fixture.Server(ns, name))).To(Succeed())
		waitDeployments(ns, []string{name}, 30*time.Second)

		rng := rand.New(rand.NewSource(transitionSeed))
		var failures []string
		settle := make([]time.Duration, 0, transitionSequences)
		for seq := range transitionSequences {
			var did []string
			for range editsPerSequence {
				edit := randomEdit(rng, name)
				updateServer(ns, name, func(s *servingv1alpha1.KalypsoTritonServer) {
					desc := edit(&s.Spec)
					if len(did) == 0 || did[len(did)-1] != desc {
						did = append(did, desc)
					}
				})
			}
			lastEdit := time.Now()
			srv := waitObserved(ns, name, 30*time.Second)
			settle = append(settle, time.Since(lastEdit))
			problems := childMismatches(srv)
			if meta.IsStatusConditionTrue(srv.Status.Conditions, servingv1alpha1.ConditionStalled) {
				problems = append(problems, "server is Stalled: "+meta.FindStatusCondition(srv.Status.Conditions, servingv1alpha1.ConditionStalled).Message)
			}
			if len(problems) > 0 {
				failures = append(failures, fmt.Sprintf("sequence %d [%s]:\n  %s", seq, strings.Join(did, ", "), strings.Join(problems, "\n  ")))
			}
		}

		// The oracle can fail: the same children do not match another spec.
		control := getServer(Default, ns, name)
		control.Spec.TritonConfig.Tag, control.Spec.TritonConfig.TritonVersion = "oracle-control", "2.53.0"
		Expect(childMismatches(control)).NotTo(BeEmpty(), "the oracle accepts children of another spec")

		fixture.Figure(AddReportEntry, "transitions", "%d sequences x %d edits (seed %d), %d failures, observedGeneration caught up p50 %s, p99 %s",
			transitionSequences, editsPerSequence, transitionSeed, len(failures), fixture.Ms(fixture.Percentile(settle, 50)), fixture.Ms(fixture.Percentile(settle, 99)))
		Expect(failures).To(BeEmpty(), strings.Join(failures, "\n"))
	})
}
