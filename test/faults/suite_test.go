// Package faults runs the manager binary as a separate process,
// authenticated as its ServiceAccount under the real RBAC of config/rbac,
// against a kube-apiserver that writes an audit log, and injects faults:
// the manager killed after an exact number of API writes, the leader killed
// or terminated under a second replica, and tenants attacking each other.
// Every test asserts a figure, reports it and prints a FIGURE line.
package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

// bystander is a namespace nothing of Kalypso's lives in; the manager must
// never send a request about anything in it.
const bystander = "bystander"

var (
	ctx    context.Context
	cancel context.CancelFunc
	scheme = controller.Scheme()

	cp  *process.ControlPlane
	k8s client.Client
	// tmp holds the manager binary, kubeconfigs, manager logs and the audit log.
	tmp           string
	managerBinary string
	managerToken  string
	auditLog      string
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	RunSpecs(t, "Fault injection suite")
}

// auditPolicy records every request at Metadata level (who, what, where,
// response code) once it completes or starts streaming.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	var err error
	tmp, err = os.MkdirTemp("", "kalypso-faults-")
	Expect(err).NotTo(HaveOccurred())

	By("building the manager")
	goBin, err := exec.LookPath("go")
	Expect(err).NotTo(HaveOccurred())
	managerBinary = filepath.Join(tmp, "manager")
	build := exec.CommandContext(ctx, goBin, "build", "-o", managerBinary, "./cmd/manager")
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build ./cmd/manager: %s", out)

	By("starting kube-apiserver (RBAC, audit log) and etcd, and applying config/local")
	policy := filepath.Join(tmp, "audit-policy.yaml")
	Expect(os.WriteFile(policy, []byte(auditPolicy), 0o600)).To(Succeed())
	auditLog = filepath.Join(tmp, "audit.log")
	cp, err = process.StartControlPlane(ctx, process.ControlPlaneOptions{
		Scheme:     scheme,
		Kustomize:  os.Getenv("KUSTOMIZE"),
		FieldOwner: "faults",
		APIServerFlags: map[string]string{
			"audit-policy-file": policy,
			"audit-log-path":    auditLog,
		},
	})
	Expect(err).NotTo(HaveOccurred())
	k8s = cp.Client
	managerToken, err = cp.ManagerToken(ctx)
	Expect(err).NotTo(HaveOccurred())

	By("creating a bystander namespace with a Secret and a ConfigMap")
	Expect(k8s.Create(ctx, fixture.Namespace(bystander))).To(Succeed())
	Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: bystander, Name: "db-password"},
		StringData: map[string]string{"password": "not-for-kalypso"}})).To(Succeed())
	Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: bystander, Name: "settings"},
		Data: map[string]string{"mode": "private"}})).To(Succeed())
})

// suiteFailed keeps the manager logs and the audit log for a look.
var suiteFailed bool

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() {
		suiteFailed = true
	}
})

var _ = AfterSuite(func() {
	if cp != nil {
		cp.Stop()
	}
	if cancel != nil {
		cancel()
	}
	if tmp == "" {
		return
	}
	if suiteFailed || os.Getenv("FAULTS_KEEP") != "" {
		fmt.Printf("faults: manager logs and audit log kept in %s\n", tmp)
		return
	}
	_ = os.RemoveAll(tmp)
})

// The three fault families run in this order, in one ordered container, so
// that the audit check of the last one covers every request of the suite.
// ContinueOnFailure: a failed figure does not hide the next ones.
var _ = Describe("Faults", Ordered, ContinueOnFailure, func() {
	Describe("A manager killed mid-reconcile", Ordered, crashSpecs)
	Describe("Leader failover", Ordered, failoverSpecs)
	Describe("Tenancy attacks", Ordered, tenancySpecs)
})
