// Package models tests per-model status and explicit model sets against a
// real API server (envtest) with a fake Triton on loopback: the suite plays
// the kubelet (pods and their status are written by the tests, their IPs
// simulated in 10.0.0.0/8) and the manager's one dialer maps those IPs to the
// fake. Every dial the manager makes is recorded; none may leave loopback.
package models

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/faketriton"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

// interval is the manager's reading interval in this suite.
const interval = time.Second

var (
	env       *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	ctx       context.Context
	cancel    context.CancelFunc
	fake      *faketriton.Server
	profiles  = &profileTable{m: map[string]faketriton.Profile{}}
	dials     = &dialLog{}
)

// profileTable says what each simulated pod (ip:port) is.
type profileTable struct {
	mu sync.Mutex
	m  map[string]faketriton.Profile
}

func (p *profileTable) set(pod string, prof faketriton.Profile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[pod] = prof
}

func (p *profileTable) get(pod string) faketriton.Profile {
	p.mu.Lock()
	defer p.mu.Unlock()
	prof, ok := p.m[pod]
	if !ok {
		return faketriton.Profile{Unknown: true}
	}
	return prof
}

// dialLog records every address the manager's dialer dials.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *dialLog) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

func TestModels(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "Model status suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true), zap.Level(zapcore.Level(-1))))
	ctx, cancel = context.WithCancel(context.Background())

	fake = faketriton.New(profiles.get)
	addr, err := faketriton.Start(ctx, "127.0.0.1:0", fake)
	Expect(err).NotTo(HaveOccurred())
	target, err := netip.ParseAddrPort(addr.String())
	Expect(err).NotTo(HaveOccurred())

	env, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: controller.Scheme()})
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(cfg, controller.ManagerOptions(controller.Scheme(), controller.ManagerConfig{}))
	Expect(err).NotTo(HaveOccurred())
	Expect(controller.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: 2, Triton: controller.TritonAccess{
		Map:      tritonapi.AddressMap{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Target: target}},
		Dial:     dials.dial,
		Interval: interval, RequestTimeout: time.Second, LoadTimeout: 30 * time.Second,
		OperatorNamespace: "kalypso-serving-system",
	}})).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
