package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

// forbiddenNamespaces are namespaces the manager has no business in.
var forbiddenNamespaces = []string{"kube-system", "kube-public", "default", bystander}

// celRefusal is the message of the Environment.namespace CEL rule.
const celRefusal = "namespace must not be default or a kube- system namespace"

func getProject(g Gomega, name string) *servingv1alpha1.KalypsoProject {
	var p servingv1alpha1.KalypsoProject
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, &p)).To(Succeed())
	return &p
}

// envReason is the reason of an environment's status.
func envReason(p *servingv1alpha1.KalypsoProject, env string) string {
	for _, e := range p.Status.Environments {
		if e.Name == env {
			return e.Reason
		}
	}
	return ""
}

// untouched snapshots a namespace and returns a check that it did not change.
func untouched(name string) func(Gomega) {
	var before corev1.Namespace
	ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKey{Name: name}, &before)).To(Succeed())
	return func(g Gomega) {
		var now corev1.Namespace
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, &now)).To(Succeed())
		g.Expect(now.ResourceVersion).To(Equal(before.ResourceVersion), "namespace %s changed", name)
		g.Expect(now.Labels).To(Equal(before.Labels))
		g.Expect(now.OwnerReferences).To(Equal(before.OwnerReferences))
		g.Expect(now.DeletionTimestamp).To(BeNil())
	}
}

func tenancySpecs() {
	var mgr *process.Manager
	refusals := map[string]string{}

	BeforeAll(func() {
		mgr = startManager("tenancy", directKubeconfig(), false)
		DeferCleanup(func() { mgr.Kill() })
	})

	It("(a) refuses an environment naming another project's namespace and leaves it untouched", func() {
		Expect(k8s.Create(ctx, fixture.Project("ten-a", fixture.WithEnvironments(servingv1alpha1.Environment{Name: "dev"})))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getProject(g, "ten-a").Status.Phase).To(Equal(servingv1alpha1.PhaseReady))
		}).Should(Succeed())
		victim := untouched("ten-a-dev")

		Expect(k8s.Create(ctx, fixture.Project("ten-b", fixture.WithEnvironments(servingv1alpha1.Environment{Name: "dev", Namespace: "ten-a-dev"})))).To(Succeed())
		Eventually(func(g Gomega) {
			p := getProject(g, "ten-b")
			g.Expect(envReason(p, "dev")).To(Equal(servingv1alpha1.ReasonNamespaceConflict))
			c := meta.FindStatusCondition(p.Status.Conditions, servingv1alpha1.ConditionStalled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonNamespaceConflict))
		}).Should(Succeed())
		Consistently(victim, 2*time.Second).Should(Succeed())
		refusals["a"] = "condition " + servingv1alpha1.ReasonNamespaceConflict
	})

	It("(b) refuses system namespaces at admission, named or defaulted", func() {
		for i, sys := range []string{"kube-system", "default", "kube-public"} {
			err := k8s.Create(ctx, fixture.Project(fmt.Sprintf("ten-sys-%d", i), fixture.WithEnvironments(servingv1alpha1.Environment{Name: "x", Namespace: sys})))
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "environment namespace %s: want Invalid, got %v", sys, err)
			Expect(err.Error()).To(ContainSubstring(celRefusal))
		}
		// <project>-<environment> could spell a system namespace too.
		err := k8s.Create(ctx, fixture.Project("kube", fixture.WithEnvironments(servingv1alpha1.Environment{Name: "system"}, servingv1alpha1.Environment{Name: "public"})))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "project kube: want Invalid, got %v", err)
		Expect(err.Error()).To(ContainSubstring("would place its environments in kube- system namespaces"))
		Consistently(func(g Gomega) {
			untouched("kube-system")(g)
			untouched("kube-public")(g)
		}, 2*time.Second).Should(Succeed())
		refusals["b"] = "CEL at admission x4 (3 explicit namespaces, 1 project whose defaulted namespaces are kube-system and kube-public)"
	})

	It("(c) refuses an Application that claims another project, and creates nothing for it", func() {
		Expect(k8s.Create(ctx, fixture.Application("ten-a-dev", "claims-b", fixture.WithProject("ten-b")))).To(Succeed())
		srv := fixture.Server("ten-a-dev", "s-claims", fixture.WithApplication("claims-b"))
		Expect(k8s.Create(ctx, srv)).To(Succeed())
		Eventually(func(g Gomega) {
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "ten-a-dev", Name: "claims-b"}, &app)).To(Succeed())
			c := meta.FindStatusCondition(app.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonProjectMismatch))
			g.Expect(app.Status.Project).To(BeEmpty())
			var s servingv1alpha1.KalypsoTritonServer
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(srv), &s)).To(Succeed())
			r := meta.FindStatusCondition(s.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(r).NotTo(BeNil())
			g.Expect(r.Reason).To(Equal(servingv1alpha1.ReasonApplicationNotReady))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			for _, gvk := range childKinds {
				list := &metav1.PartialObjectMetadataList{}
				list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
				g.Expect(k8s.List(ctx, list, client.InNamespace("ten-a-dev"))).To(Succeed())
				g.Expect(list.Items).To(BeEmpty(), "%s created for an Application claiming another project", gvk.Kind)
			}
		}, 2*time.Second).Should(Succeed())
		refusals["c"] = "condition " + servingv1alpha1.ReasonProjectMismatch + ", 0 children"
	})

	It("(d) cannot express a reference to another namespace: strict validation rejects it, default validation prunes it", func() {
		obj := func(name string) *unstructured.Unstructured {
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": servingv1alpha1.GroupVersion.String(), "kind": "KalypsoTritonServer",
				"metadata": map[string]any{"namespace": "ten-a-dev", "name": name},
				"spec": map[string]any{
					"applicationRef": map[string]any{"name": fixture.AppName, "namespace": bystander},
					"storageUri":     "s3://models/x",
				},
			}}
			return u
		}
		err := k8s.Create(ctx, obj("cross-strict"), client.FieldValidation(metav1.FieldValidationStrict))
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "want BadRequest, got %v", err)
		Expect(err.Error()).To(ContainSubstring(`unknown field "spec.applicationRef.namespace"`))

		pruned := obj("cross-pruned")
		Expect(k8s.Create(ctx, pruned)).To(Succeed())
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(pruned.GroupVersionKind())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pruned), got)).To(Succeed())
		Expect(got.Object["spec"]).To(HaveKeyWithValue("applicationRef", map[string]any{"name": fixture.AppName}))
		Expect(k8s.Delete(ctx, got)).To(Succeed())
		refusals["d"] = "strict: 400 unknown field, default: pruned"
	})

	It("never sends a request about anything in a namespace it has no business in (audit log)", func() {
		a := readAudit(auditLog, process.ManagerUser)
		Expect(a.total).To(BeNumerically(">", 0))
		Expect(a.inForbidden).To(BeEmpty(), "manager requests about objects in %v", forbiddenNamespaces)
		for _, r := range a.forbiddenNamespaceObjects {
			Expect(r.written()).To(BeFalse(), "the manager changed namespace %s: %s %d", r.ObjectRef.Name, r.Verb, r.code())
		}
		AddReportEntry("cluster-wide list/watch by the manager", a.clusterWide)
		AddReportEntry("Events about cluster-scoped KalypsoProjects (kept in default by Kubernetes)", a.projectEvents)
		AddReportEntry("manager requests on forbidden Namespace objects themselves", a.namespaceObjectSummary())
		fmt.Printf("\nAUDIT cluster-wide list/watch by the manager (not failing): %s\n", a.clusterWide)
		fixture.Figure(AddReportEntry, "tenancy", "a %s; b %s; c %s; d %s; audit: %d manager requests, %d about objects in %v; "+
			"%d on those Namespace objects themselves, none a successful write (%s); %d cluster-wide list/watch",
			refusals["a"], refusals["b"], refusals["c"], refusals["d"], a.total, len(a.inForbidden), forbiddenNamespaces,
			len(a.forbiddenNamespaceObjects), a.namespaceObjectSummary(), a.clusterWideCount)
	})
}

// auditEvent is the part of an audit.k8s.io/v1 Event the suite reads.
type auditEvent struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

func (e auditEvent) code() int {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// written reports a successful mutating request.
func (e auditEvent) written() bool {
	switch e.Verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return e.code() >= 200 && e.code() < 300
	}
	return false
}

type auditSummary struct {
	total int
	// inForbidden are requests about objects inside a forbidden namespace.
	inForbidden []string
	// forbiddenNamespaceObjects are requests on the forbidden Namespace
	// objects themselves (cluster-scoped).
	forbiddenNamespaceObjects []auditEvent
	// clusterWide counts list and watch requests without a namespace.
	clusterWide      string
	clusterWideCount int
	// projectEvents counts Events recorded about KalypsoProjects: Kubernetes
	// keeps the Events of cluster-scoped objects in the default namespace,
	// so creating (or patching, for a series) an events.k8s.io Event there is
	// the one request allowed in a forbidden namespace.
	projectEvents int
}

func (s auditSummary) namespaceObjectSummary() string {
	items := make([]string, 0, len(s.forbiddenNamespaceObjects))
	for _, e := range s.forbiddenNamespaceObjects {
		items = append(items, fmt.Sprintf("%s %s -> %d", e.Verb, e.ObjectRef.Name, e.code()))
	}
	if len(items) == 0 {
		return "none"
	}
	return countBy(items)
}

// readAudit reads the audit log, one request per auditID, and sorts the
// requests of user.
func readAudit(path, user string) auditSummary {
	f, err := os.Open(path)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	events := map[string]auditEvent{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		ExpectWithOffset(1, json.Unmarshal(sc.Bytes(), &e)).To(Succeed())
		if e.User.Username != user {
			continue
		}
		if _, seen := events[e.AuditID]; !seen {
			order = append(order, e.AuditID)
		}
		events[e.AuditID] = e // ResponseComplete follows ResponseStarted
	}
	ExpectWithOffset(1, sc.Err()).NotTo(HaveOccurred())

	s := auditSummary{total: len(order)}
	var clusterWide []string
	for _, id := range order {
		e := events[id]
		if e.ObjectRef == nil {
			continue
		}
		ref := e.ObjectRef
		switch {
		case ref.Resource == "namespaces":
			if slices.Contains(forbiddenNamespaces, ref.Name) {
				s.forbiddenNamespaceObjects = append(s.forbiddenNamespaceObjects, e)
			}
		case ref.Namespace == metav1.NamespaceDefault && ref.APIGroup == "events.k8s.io" && ref.Resource == "events" &&
			(e.Verb == "create" || e.Verb == "patch"):
			s.projectEvents++
		case slices.Contains(forbiddenNamespaces, ref.Namespace):
			s.inForbidden = append(s.inForbidden, fmt.Sprintf("%s %s", e.Verb, e.RequestURI))
		case ref.Namespace == "" && (e.Verb == "list" || e.Verb == "watch"):
			res := ref.Resource
			if ref.APIGroup != "" {
				res += "." + ref.APIGroup
			}
			clusterWide = append(clusterWide, e.Verb+" "+res)
		}
	}
	s.clusterWide, s.clusterWideCount = countBy(clusterWide), len(clusterWide)
	return s
}
