package reliability

import (
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

const (
	// healWave is how many objects are disturbed at once.
	healWave = 10
	// healWaveTimeout bounds the wait for one wave to heal.
	healWaveTimeout = 20 * time.Second
	// healP99 bounds the 99th percentile of the time to heal.
	healP99 = 10 * time.Second
	// Values written by "other managers".
	tamperedImage      = "example.invalid/tampered:1"
	tamperedLabelValue = "tampered"
	tamperedPort       = 18000
	foreignAnnotation  = "example.com/owner-note"
	hpaReplicas        = 3
)

var tamperedArgs = []string{"--model-repository=/tampered"}

func selfHealSpecs() {
	It("restores deleted and edited children of 100 servers, and leaves fields of other managers alone", func() {
		const servers = 100
		ns := createNamespace("rel-selfheal")
		DeferCleanup(cleanupServers, ns)
		createStorage(ns, fixture.FakeValue)
		var autoscaled []string
		names := createServers(ns, "heal", servers, func(i int, s *servingv1alpha1.KalypsoTritonServer) {
			if i%4 == 0 {
				fixture.WithAutoscaling(2, 4)(s)
				autoscaled = append(autoscaled, s.Name)
			}
		})
		waitDeployments(ns, names, 2*time.Minute)
		fixture.MarkAvailable(ctx, k8sClient, ns, names...)
		waitReady(ns, names, 2*time.Minute)

		By("deleting every child of every server")
		var deletions tally
		deleteAndTime(&deletions, ns, &appsv1.DeploymentList{}, func() client.Object { return &appsv1.Deployment{} }, names)
		deleteAndTime(&deletions, ns, &corev1.ServiceList{}, func() client.Object { return &corev1.Service{} }, names)
		deleteAndTime(&deletions, ns, &policyv1.PodDisruptionBudgetList{}, func() client.Object { return &policyv1.PodDisruptionBudget{} }, names)
		deleteAndTime(&deletions, ns, &autoscalingv2.HorizontalPodAutoscalerList{},
			func() client.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }, autoscaled)

		By("writing fields the operator does not own, as other managers")
		for _, n := range names {
			patch := []byte(`{"metadata":{"annotations":{"` + foreignAnnotation + `":"kept"}}}`)
			Expect(k8sClient.Patch(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}},
				client.RawPatch(types.MergePatchType, patch), client.FieldOwner("other-tool"))).To(Succeed())
		}
		for _, n := range autoscaled {
			// What the HorizontalPodAutoscaler does: write the scale subresource.
			Expect(k8sClient.SubResource("scale").Patch(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}},
				client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, hpaReplicas))),
				client.FieldOwner("horizontal-pod-autoscaler"))).To(Succeed())
		}

		By("editing fields the operator owns, as another manager")
		var edits tally
		tamperDeployments(&edits, ns, "image", names, `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"`+tamperedImage+`"}]`,
			func(d *appsv1.Deployment) any { return d.Spec.Template.Spec.Containers[0].Image }, tamperedImage)
		tamperDeployments(&edits, ns, "args", names, `[{"op":"replace","path":"/spec/template/spec/containers/0/args","value":["`+tamperedArgs[0]+`"]}]`,
			func(d *appsv1.Deployment) any { return d.Spec.Template.Spec.Containers[0].Args }, tamperedArgs)
		tamperDeployments(&edits, ns, "application label", names, `[{"op":"replace","path":"/metadata/labels/kalypso-serving.io~1application","value":"`+
			tamperedLabelValue+`"}]`, func(d *appsv1.Deployment) any { return d.Labels[render.LabelApplication] }, tamperedLabelValue)
		tamperServicePorts(&edits, ns, names)

		By("checking that the other managers' fields survived the operator's applies")
		keptAnnotation, keptReplicas := othersFieldsKept(ns, autoscaled)

		fixture.Figure(AddReportEntry, "self-heal", "%d of %d deletions restored (p50 %s, p99 %s), %d of %d edits reverted (p50 %s, p99 %s), in waves of %d; "+
			"foreign annotation kept on %d/%d Deployments, HPA-written replicas kept on %d/%d",
			len(deletions.took), deletions.total(), fixture.Ms(fixture.Percentile(deletions.took, 50)), fixture.Ms(fixture.Percentile(deletions.took, 99)),
			len(edits.took), edits.total(), fixture.Ms(fixture.Percentile(edits.took, 50)), fixture.Ms(fixture.Percentile(edits.took, 99)), healWave,
			keptAnnotation, servers, keptReplicas, len(autoscaled))
		Expect(deletions.missed).To(BeEmpty(), "deleted children not recreated; last reconciler error: %s", logs.LastLine("Reconciler error"))
		Expect(edits.missed).To(BeEmpty(), "edited fields not restored; last reconciler error: %s", logs.LastLine("Reconciler error"))
		Expect(deletions.took).To(HaveLen(3*servers + len(autoscaled)))
		Expect(edits.took).To(HaveLen(4 * servers))
		Expect(keptAnnotation).To(Equal(servers), "Deployments that lost another manager's annotation")
		Expect(keptReplicas).To(Equal(len(autoscaled)), "autoscaled Deployments whose HPA-written replicas were reverted")
		Expect(fixture.Percentile(deletions.took, 99)).To(BeNumerically("<", healP99))
		Expect(fixture.Percentile(edits.took, 99)).To(BeNumerically("<", healP99))
	})
}

// tally collects the times to heal of one spec.
type tally struct {
	took    []time.Duration
	missed  []string
	skipped int
}

func (t *tally) total() int { return len(t.took) + len(t.missed) + t.skipped }

// run disturbs the names a wave at a time and waits for each wave to heal.
// After a wave that does not heal, the rest are skipped (and counted).
func (t *tally) run(timer *restoreTimer, names []string, disturb func(name string)) {
	for i, n := range names {
		disturb(n)
		if (i+1)%healWave != 0 && i+1 != len(names) {
			continue
		}
		took, missed := timer.wait(healWaveTimeout)
		t.took = append(t.took, took...)
		t.missed = append(t.missed, missed...)
		if len(missed) > 0 {
			t.skipped += len(names) - i - 1
			return
		}
	}
}

// othersFieldsKept counts the Deployments that still hold the annotation
// another manager wrote, and the autoscaled ones that still hold the
// replicas the HPA wrote, for a while.
func othersFieldsKept(ns string, autoscaled []string) (annotation, replicas int) {
	annotation, replicas = -1, -1
	for range 5 {
		var list appsv1.DeploymentList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		a, r := 0, 0
		for i := range list.Items {
			d := &list.Items[i]
			if d.Annotations[foreignAnnotation] == "kept" {
				a++
			}
			if slices.Contains(autoscaled, d.Name) && ptr.Deref(d.Spec.Replicas, 0) == hpaReplicas {
				r++
			}
		}
		if annotation < 0 || a < annotation {
			annotation = a
		}
		if replicas < 0 || r < replicas {
			replicas = r
		}
		time.Sleep(400 * time.Millisecond)
	}
	return annotation, replicas
}

// deleteAndTime deletes the named objects of one kind and times their recreation.
func deleteAndTime(t *tally, ns string, list client.ObjectList, newObj func() client.Object, names []string) {
	timer := newRestoreTimer(list, ns)
	defer timer.stop()
	t.run(timer, names, func(n string) {
		obj := newObj()
		Expect(k8sClient.Get(ctx, key(ns, n), obj)).To(Succeed())
		uid := obj.GetUID()
		timer.expectRecreated(n, uid)
		Expect(k8sClient.Delete(ctx, obj, client.Preconditions{UID: &uid})).To(Succeed())
	})
}

// tamperDeployments JSON-patches each server's Deployment as another field
// manager and times until field(d) has its value from before the patch again.
func tamperDeployments(t *tally, ns, what string, names []string, patch string, field func(*appsv1.Deployment) any, tampered any) {
	var list appsv1.DeploymentList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	want := map[string]any{}
	for i := range list.Items {
		want[list.Items[i].Name] = field(&list.Items[i])
	}
	tamper(t, ns, "Deployment "+what, &appsv1.DeploymentList{}, func() client.Object { return &appsv1.Deployment{} }, names, patch,
		func(o client.Object) any { return field(o.(*appsv1.Deployment)) }, tampered, want)
}

// tamperServicePorts changes the http port of each server's Service.
func tamperServicePorts(t *tally, ns string, names []string) {
	want := map[string]any{}
	for _, n := range names {
		want[n] = render.DefaultHTTPPort
	}
	tamper(t, ns, "Service http port", &corev1.ServiceList{}, func() client.Object { return &corev1.Service{} }, names,
		fmt.Sprintf(`[{"op":"replace","path":"/spec/ports/0/port","value":%d}]`, tamperedPort),
		func(o client.Object) any { return o.(*corev1.Service).Spec.Ports[0].Port }, int32(tamperedPort), want)
}

func tamper(t *tally, ns, what string, list client.ObjectList, newObj func() client.Object, names []string, patch string,
	field func(client.Object) any, tampered any, want map[string]any) {
	timer := newRestoreTimer(list, ns)
	defer timer.stop()
	t.run(timer, names, func(n string) {
		Expect(want).To(HaveKey(n))
		Expect(want[n]).NotTo(Equal(tampered))
		timer.expect(n, what+" restore",
			func(_ watch.EventType, o client.Object) bool { return equalValues(field(o), tampered) },
			func(o client.Object) bool { return equalValues(field(o), want[n]) })
		obj := newObj()
		obj.SetNamespace(ns)
		obj.SetName(n)
		Expect(k8sClient.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, []byte(patch)), client.FieldOwner("intruder"))).To(Succeed())
	})
}

func equalValues(a, b any) bool {
	sa, okA := a.([]string)
	sb, okB := b.([]string)
	if okA || okB {
		return okA && okB && slices.Equal(sa, sb)
	}
	return a == b
}
