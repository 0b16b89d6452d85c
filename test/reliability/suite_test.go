package reliability

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

var (
	env       *envtest.Environment
	cfg       *rest.Config
	k8sClient client.WithWatch
	ctx       context.Context
	cancel    context.CancelFunc

	// scheme is the test client's: the manager's (controller.Scheme, as
	// in cmd/manager) and the CRD type.
	scheme = controller.Scheme()

	// logs receives everything the manager logs, at debug verbosity (V(1)).
	logs = &logBuffer{}
	mgr  *managerRun
)

func TestReliability(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "Reliability Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(logs), zap.Level(zapcore.Level(-1))))
	ctx, cancel = context.WithCancel(context.Background())

	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())

	var err error
	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	// Room for a few hundred Services (envtest's default range holds 256)
	// and their replacements.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/12")
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())

	testCfg := rest.CopyConfig(cfg)
	testCfg.QPS, testCfg.Burst = 1000, 2000
	k8sClient, err = client.NewWithWatch(testCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	mgr = startManager()
})

var _ = AfterSuite(func() {
	if mgr != nil {
		mgr.stop()
	}
	if cancel != nil {
		cancel()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// The specs run in this order: the optional-CRD spec must run before any
// spec installs the ServiceMonitor CRD, and the ownership spec, which
// depends on a reconciler change, runs last. A failing spec does not skip
// the others.
var _ = Describe("Reliability", Ordered, ContinueOnFailure, func() {
	BeforeEach(func() { logs.Reset() })
	AfterEach(func() {
		if CurrentSpecReport().Failed() {
			GinkgoWriter.Printf("--- last manager log lines ---\n%s\n", logs.Tail(80))
		}
	})

	optionalCRDSpecs()
	selfHealSpecs()
	stabilitySpecs()
	updateStormSpecs()
	transitionSpecs()
	secretCanarySpecs()
	ownershipSpecs()
})

// managerRun is one run of the manager in this process.
type managerRun struct {
	cancel context.CancelFunc
	done   chan error
}

// startManager builds a manager with cmd/manager's options (without
// metrics, probes or leader election) and reconcilers and starts it; every
// run uses the same options.
func startManager() *managerRun {
	mcfg := rest.CopyConfig(cfg)
	mcfg.QPS, mcfg.Burst = controller.DefaultQPS, controller.DefaultBurst
	opts := controller.ManagerOptions(controller.Scheme(), controller.ManagerConfig{})
	// The same controller names are registered again on every restart.
	opts.Controller.SkipNameValidation = ptr.To(true)
	m, err := ctrl.NewManager(mcfg, opts)
	Expect(err).NotTo(HaveOccurred())
	Expect(controller.SetupWithManager(m, controller.Options{MaxConcurrentReconciles: controller.DefaultMaxConcurrentReconciles})).To(Succeed())
	runCtx, runCancel := context.WithCancel(ctx)
	run := &managerRun{cancel: runCancel, done: make(chan error, 1)}
	go func() { run.done <- m.Start(runCtx) }()
	return run
}

// stop cancels the manager and waits for Start to return.
func (r *managerRun) stop() {
	r.cancel()
	select {
	case err := <-r.done:
		Expect(err).NotTo(HaveOccurred(), "manager stopped with an error")
	case <-time.After(60 * time.Second):
		Fail("manager did not stop within 60s")
	}
}

// restartManager stops the running manager and starts a new one.
func restartManager() {
	mgr.stop()
	mgr = startManager()
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns the last n lines.
func (b *logBuffer) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LastLine returns the last logged line containing part, cut to 600 bytes.
func (b *logBuffer) LastLine(part string) string {
	lines := strings.Split(b.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], part) {
			return lines[i][:min(len(lines[i]), 600)]
		}
	}
	return "(none)"
}

// HasLine reports whether one logged line contains every one of parts.
func (b *logBuffer) HasLine(parts ...string) bool {
	for line := range strings.SplitSeq(b.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
