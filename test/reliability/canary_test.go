package reliability

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	Expect(err).NotTo(HaveOccurred())
	return hex.EncodeToString(b)
}

func secretCanarySpecs() {
	It("never copies a storage Secret value into statuses, Events, children or logs", func() {
		ns := createNamespace("rel-canary")
		DeferCleanup(cleanupServers, ns)
		canaries := []string{"canary-" + randomHex(8), "canary-" + randomHex(8)}
		// Needles: each canary, and each full Secret value in base64 as a
		// Secret's JSON would hold it.
		needles := map[string]string{}
		for _, c := range canaries {
			needles[c] = c
			for _, k := range fixture.S3Keys {
				needles[c+"-"+k+" (base64)"] = base64.StdEncoding.EncodeToString([]byte(c + "-" + k))
			}
		}
		value := func(canary string) func(string) string {
			return func(k string) string { return canary + "-" + k }
		}

		By("running a lifecycle: create, update, rotate the Secret, delete")
		createStorage(ns, value(canaries[0]))
		names := createServers(ns, "leak", 3, nil)
		var statuses [][]byte
		snapshot := func() { statuses = append(statuses, statusJSON(ns)...) }
		waitDeployments(ns, names, 30*time.Second)
		fixture.MarkAvailable(ctx, k8sClient, ns, names...)
		waitReady(ns, names, 30*time.Second)
		snapshot()

		for _, n := range names {
			updateServer(ns, n, func(s *servingv1alpha1.KalypsoTritonServer) {
				s.Spec.TritonConfig.Tag = "25.01-py3"
				s.Spec.Replicas = ptr.To[int32](3)
			})
			waitObserved(ns, n, 30*time.Second)
		}
		fixture.MarkAvailable(ctx, k8sClient, ns, names...)
		waitReady(ns, names, 30*time.Second)
		snapshot()

		versions := secretVersions(ns, names)
		var secret corev1.Secret
		Expect(k8sClient.Get(ctx, key(ns, fixture.SecretName), &secret)).To(Succeed())
		for k := range secret.Data {
			secret.Data[k] = []byte(value(canaries[1])(k))
		}
		Expect(k8sClient.Update(ctx, &secret)).To(Succeed())
		Eventually(func(g Gomega) {
			now := secretVersions(ns, names)
			for _, n := range names {
				g.Expect(now[n]).NotTo(Equal(versions[n]), "pods of %s not rolled", n)
			}
		}).Should(Succeed())
		fixture.MarkAvailable(ctx, k8sClient, ns, names...)
		waitReady(ns, names, 30*time.Second)
		snapshot()

		for _, n := range names {
			Expect(k8sClient.Delete(ctx, fixture.Server(ns, n))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			var list servingv1alpha1.KalypsoTritonServerList
			g.Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(BeEmpty())
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, key(ns, fixture.AppName), &app)).To(Succeed())
			g.Expect(app.Status.Servers).To(BeZero())
		}).Should(Succeed())
		snapshot()
		Expect(k8sClient.Delete(ctx, fixture.Application(ns, fixture.AppName))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, fixture.AppName), &servingv1alpha1.KalypsoApplication{}))
		}).Should(BeTrue())

		By("searching every place the operator writes")
		places, hits := 0, []string{}
		search := func(where string, data []byte) {
			places++
			for what, needle := range needles {
				if bytes.Contains(data, []byte(needle)) {
					hits = append(hits, fmt.Sprintf("%s holds %s", where, what))
				}
			}
		}
		for i, s := range statuses {
			search(fmt.Sprintf("status snapshot %d", i), s)
		}
		events := 0
		for _, list := range []client.ObjectList{&corev1.EventList{}, &eventsv1.EventList{}} {
			events += searchItems(ns, list, "Event", search)
		}
		children := 0
		for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &policyv1.PodDisruptionBudgetList{},
			&autoscalingv2.HorizontalPodAutoscalerList{}} {
			children += searchItems(ns, list, "child", search)
		}
		Expect(children).To(BeNumerically(">=", 2*len(names)), "the children outlive their servers (no garbage collector)")
		managerLog := logs.String()
		search("manager log", []byte(managerLog))

		// The search can find a leak: the Secret itself holds the values,
		// and the log holds the operator's debug (V(1)) lines.
		secretJSON, err := json.Marshal(&secret)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(secretJSON)).To(ContainSubstring(needles[canaries[1]+"-"+fixture.S3Keys[0]+" (base64)"]))
		Expect(logs.HasLine("applying", `"kind":"Deployment"`)).To(BeTrue(), "debug lines are not captured")

		fixture.Figure(AddReportEntry, "secret-canaries", "%d places searched (%d status snapshots, %d Events, %d child objects, manager log of %d lines at V(1)), %d hits",
			places, len(statuses), events, children, strings.Count(managerLog, "\n"), len(hits))
		Expect(hits).To(BeEmpty())
	})
}

// statusJSON returns the JSON of the status of every server and
// application in ns.
func statusJSON(ns string) [][]byte {
	var servers servingv1alpha1.KalypsoTritonServerList
	Expect(k8sClient.List(ctx, &servers, client.InNamespace(ns))).To(Succeed())
	var apps servingv1alpha1.KalypsoApplicationList
	Expect(k8sClient.List(ctx, &apps, client.InNamespace(ns))).To(Succeed())
	out := make([][]byte, 0, len(servers.Items)+len(apps.Items))
	for i := range servers.Items {
		data, err := json.Marshal(servers.Items[i].Status)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, data)
	}
	for i := range apps.Items {
		data, err := json.Marshal(apps.Items[i].Status)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, data)
	}
	return out
}

// searchItems lists a kind in ns and searches each item's JSON.
func searchItems(ns string, list client.ObjectList, what string, search func(string, []byte)) int {
	Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	n := 0
	Expect(meta.EachListItem(list, func(o runtime.Object) error {
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		search(fmt.Sprintf("%s %s", what, o.(client.Object).GetName()), data)
		n++
		return nil
	})).To(Succeed())
	return n
}

// secretVersions maps each server to its pods' storage Secret version.
func secretVersions(ns string, names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		var d appsv1.Deployment
		Expect(k8sClient.Get(ctx, key(ns, n), &d)).To(Succeed())
		out[n] = d.Spec.Template.Annotations[render.AnnotationStorageSecret]
	}
	return out
}
