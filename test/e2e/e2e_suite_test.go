// Package e2e runs the manager binary, authenticated as its own
// ServiceAccount, against a fresh local cluster of real Kubernetes
// components (built from Go modules) with kwok nodes, and checks what a user
// would see. Run it with `make test-e2e`.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const clusterName = "kalypso-e2e"

var (
	restConfig *rest.Config
	scheme     = controller.Scheme()
	ctx        = context.Background()
	k8sClient  client.Client
	adminKube  = testenv.Path("tmp", clusterName+".kubeconfig")
	state      = testenv.Path("tmp", clusterName+"-manager")
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(90 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	RunSpecs(t, "e2e suite")
}

// script runs one of the hack/ scripts with the suite's settings.
func script(name string, args ...string) {
	cmd := exec.Command(testenv.Path("hack", name), args...)
	cmd.Env = append(os.Environ(),
		"CLUSTER_NAME="+clusterName,
		"KUBECONFIG_OUT="+adminKube,
		"KWOK_WORKDIR="+testenv.Path("tmp", "kwok-e2e"),
		"STATE="+state,
		"FAKE_TRITON_PORT=19100",
	)
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	ExpectWithOffset(1, cmd.Run()).To(Succeed(), "hack/%s %v", name, args)
}

// kubectl runs the built kubectl as the cluster admin and returns its output.
func kubectl(args ...string) string {
	cmd := exec.Command(filepath.Join(os.Getenv("K8S_BIN"), "kubectl"), append([]string{"--kubeconfig", adminKube}, args...)...)
	out, err := cmd.CombinedOutput()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "kubectl %v: %s", args, out)
	return string(out)
}

// kubectlMayFail runs kubectl as the cluster admin and returns its output
// and error (kubectl auth can-i exits 1 for "no").
func kubectlMayFail(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(os.Getenv("K8S_BIN"), "kubectl"), append([]string{"--kubeconfig", adminKube}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// existingCluster is set (E2E_KUBECONFIG) to run against a cluster someone
// else provides (e.g. kind) instead of a fresh local one.
var existingCluster = os.Getenv("E2E_KUBECONFIG")

var _ = BeforeSuite(func() {
	for _, v := range []string{"K8S_BIN", "KUSTOMIZE", "KUBECTL"} {
		Expect(os.Getenv(v)).NotTo(BeEmpty(), "%s is not set: run the suite with make test-e2e", v)
	}
	if existingCluster != "" {
		adminKube = existingCluster
	} else {
		Expect(os.Getenv("KWOK")).NotTo(BeEmpty(), "KWOK is not set: run the suite with make test-e2e")
		script("local-cluster.sh", "down")
		script("local-cluster.sh", "up")
	}
	script("run-local.sh", "start", adminKube)

	var err error
	restConfig, err = clientcmd.BuildConfigFromFlags("", adminKube)
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(restConfig, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if data, err := os.ReadFile(filepath.Join(state, "manager.log")); err == nil {
		_ = os.WriteFile(testenv.Path("tmp", clusterName+"-manager.log"), data, 0o644)
	}
	script("run-local.sh", "stop")
	if existingCluster == "" && os.Getenv("KEEP_CLUSTER") == "" {
		script("local-cluster.sh", "down")
	}
})
