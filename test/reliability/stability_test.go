package reliability

import (
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// stabilityWindow is how long a converged system is watched for writes:
// RELIABILITY_STABILITY_WINDOW (a Go duration) or 2 minutes.
func stabilityWindow() time.Duration {
	if v := os.Getenv("RELIABILITY_STABILITY_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		Expect(err).NotTo(HaveOccurred(), "RELIABILITY_STABILITY_WINDOW")
		return d
	}
	return 2 * time.Minute
}

func stabilitySpecs() {
	It("makes no write to a converged system for the whole window, across a manager restart", func() {
		const servers = 20
		window := stabilityWindow()
		ns := createNamespace("rel-stable")
		DeferCleanup(cleanupServers, ns)
		createStorage(ns, fixture.FakeValue)
		names := createServers(ns, "stable", servers, nil)
		waitDeployments(ns, names, time.Minute)
		fixture.MarkAvailable(ctx, k8sClient, ns, names...)
		waitReady(ns, names, time.Minute)
		Eventually(func(g Gomega) {
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, key(ns, fixture.AppName), &app)).To(Succeed())
			g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
			g.Expect(meta.IsStatusConditionTrue(app.Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
			g.Expect(app.Status.ReadyServers).To(Equal(int32(servers)))
		}).Should(Succeed())

		before := resourceVersions(ns)
		Expect(before).To(HaveLen(1 + 4*servers)) // application; servers, Deployments, Services, PDBs
		eventsBefore := eventVersions(ns)
		start := time.Now()

		time.Sleep(window / 2)
		Expect(resourceVersions(ns)).To(Equal(before), "writes in the first half of the window")
		logs.Reset()
		restartManager()
		// The new manager's reconcilers run: they have started their workers.
		Eventually(func() bool {
			return logs.HasLine("Starting workers", `"controller":"kalypsotritonserver"`)
		}).WithTimeout(30*time.Second).Should(BeTrue(), "the restarted manager did not start its reconcilers")
		time.Sleep(window - time.Since(start))

		after := resourceVersions(ns)
		var changed []string
		for k, rv := range before {
			if after[k] != rv {
				changed = append(changed, fmt.Sprintf("%s: %s -> %s", k, rv, after[k]))
			}
		}
		eventsAfter := eventVersions(ns)
		var newEvents []string
		for k, rv := range eventsAfter {
			if eventsBefore[k] != rv {
				newEvents = append(newEvents, k)
			}
		}
		fixture.Figure(AddReportEntry, "stability", "%d objects, %d changed, %d Events recorded over %s including 1 manager restart",
			len(before), len(changed), len(newEvents), time.Since(start).Round(time.Second))
		Expect(changed).To(BeEmpty(), "objects written while converged:\n%s", strings.Join(changed, "\n"))
		Expect(newEvents).To(BeEmpty(), "Events recorded about converged objects")
		Expect(after).To(HaveLen(len(before)))
	})
}

// eventVersions maps the Events of ns (events.k8s.io) to their resourceVersions.
func eventVersions(ns string) map[string]string {
	var list eventsv1.EventList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	out := map[string]string{}
	for _, e := range list.Items {
		out[e.Reason+" "+e.Regarding.Name+" "+e.Name] = e.ResourceVersion
	}
	return out
}

// resourceVersions maps kind/name to resourceVersion for the Application,
// the servers and their children in ns.
func resourceVersions(ns string) map[string]string {
	out := map[string]string{}
	lists := map[string]client.ObjectList{
		"KalypsoApplication":  &servingv1alpha1.KalypsoApplicationList{},
		"KalypsoTritonServer": &servingv1alpha1.KalypsoTritonServerList{},
		"Deployment":          &appsv1.DeploymentList{},
		"Service":             &corev1.ServiceList{},
		"PodDisruptionBudget": &policyv1.PodDisruptionBudgetList{},
	}
	for kind, list := range lists {
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			out[kind+"/"+obj.GetName()] = obj.GetResourceVersion()
			return nil
		})).To(Succeed())
	}
	return out
}
