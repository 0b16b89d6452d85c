package faults

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

const (
	// leaseName is LeaderElectionID in cmd/manager/main.go.
	leaseName = "kalypso-serving.serving.kalypso.io"
	// leaseDuration, renewDeadline and retryPeriod are passed to both
	// managers (--leader-elect-*). A standby takes over at most
	// leaseDuration + 2 × retryPeriod after the leader's death: it must
	// see the last renewal, then the expiry.
	leaseDuration = 8 * time.Second
	renewDeadline = 6 * time.Second
	retryPeriod   = 500 * time.Millisecond
	// failoverServers are created while the leader is killed.
	failoverServers = 30
)

// directKubeconfig reaches the API server directly as the manager.
func directKubeconfig() string {
	path := filepath.Join(tmp, "direct.kubeconfig")
	ExpectWithOffset(1, process.WriteKubeconfig(path, cp.Admin.Host, cp.Admin.CAData, managerToken)).To(Succeed())
	return path
}

// holder is the Lease's current holder identity ("" when released or absent).
func holder() string {
	var l coordinationv1.Lease
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: process.ManagerNamespace, Name: leaseName}, &l); err != nil {
		return ""
	}
	return ptr.Deref(l.Spec.HolderIdentity, "")
}

func isLeader(m *process.Manager) bool {
	c, err := m.Metrics()
	return err == nil && c.Leader
}

// setReplicas edits a server's spec.
func setReplicas(ns, name string, n int32) {
	EventuallyWithOffset(1, func(g Gomega) {
		var srv servingv1alpha1.KalypsoTritonServer
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &srv)).To(Succeed())
		srv.Spec.Replicas = ptr.To(n)
		g.Expect(k8s.Update(ctx, &srv)).To(Succeed())
	}).Should(Succeed())
}

// serverConverged checks that one server is converged (see inspect).
func serverConverged(ns, name string) func(Gomega) {
	return func(g Gomega) {
		st := inspect(g, ns, name)
		g.Expect(st.Problems).To(BeEmpty())
		g.Expect(st.Converged).To(Equal(1))
	}
}

func failoverSpecs() {
	const ns = "failover"
	var (
		kubeconfig  string
		leader      *process.Manager
		standby     *process.Manager
		leaderID    string
		killed      time.Duration // kill -9 to the standby holding the Lease
		killedReady time.Duration // kill -9 to a change being reconciled
	)
	AfterAll(func() {
		for _, m := range []*process.Manager{leader, standby} {
			if m != nil {
				m.Kill()
			}
		}
	})

	It("hands over to the standby after kill -9 of the leader within leaseDuration + 5s", func() {
		kubeconfig = directKubeconfig()
		leader = startManager("leader", kubeconfig, true)
		Eventually(func() bool { return holder() != "" && isLeader(leader) }).Should(BeTrue())
		leaderID = holder()
		standby = startManager("standby", kubeconfig, true)
		Consistently(func() bool { return isLeader(standby) }, time.Second).Should(BeFalse())
		Expect(holder()).To(Equal(leaderID))
		namespaceWithApp(ns)

		var created atomic.Int32
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			done <- fixture.Parallel(failoverServers, 8, func(i int) error {
				err := k8s.Create(ctx, fixture.Server(ns, fmt.Sprintf("f-%03d", i)))
				created.Add(1)
				return err
			})
		}()
		Eventually(created.Load).Should(BeNumerically(">=", failoverServers/3))

		By("kill -9 of the leader in the middle of the burst")
		t0 := time.Now()
		Expect(leader.Signal(syscall.SIGKILL)).To(Succeed())
		Eventually(leader.Done()).Should(BeClosed())
		// A change right after the kill: a new server and a spec edit.
		Expect(k8s.Create(ctx, fixture.Server(ns, "after-kill"))).To(Succeed())
		setReplicas(ns, "f-000", 3)

		Eventually(func() bool { h := holder(); return h != "" && h != leaderID }).
			WithTimeout(leaseDuration + 10*time.Second).Should(BeTrue())
		killed = time.Since(t0)
		Eventually(isLeader).WithArguments(standby).Should(BeTrue())
		Eventually(func(g Gomega) {
			serverConverged(ns, "after-kill")(g)
			serverConverged(ns, "f-000")(g)
		}).WithTimeout(leaseDuration + 20*time.Second).Should(Succeed())
		killedReady = time.Since(t0)

		Expect(<-done).To(Succeed())
		var st state
		Eventually(func(g Gomega) {
			st = inspect(g, ns)
			g.Expect(st.Duplicates).To(BeZero())
			g.Expect(st.Converged).To(Equal(failoverServers+1), "%v", st.Problems)
		}).Should(Succeed())
		var orphaned []string
		Eventually(func(g Gomega) { _, orphaned = orphans(g) }).Should(Succeed())
		Expect(orphaned).To(BeEmpty())
		fixture.Figure(AddReportEntry, "failover-kill", "kill -9 of the leader after %d of %d creations: Lease taken over in %s, change reconciled in %s "+
			"(limit %s, %s after the takeover), %d servers converged, %d duplicates, %d orphans",
			failoverServers/3, failoverServers+1, fixture.Secs(killed), fixture.Secs(killedReady), fixture.Secs(leaseDuration+5*time.Second),
			fixture.Secs(killedReady-killed), st.Converged, st.Duplicates, len(orphaned))
		Expect(killedReady).To(BeNumerically("<=", leaseDuration+5*time.Second),
			"a change made right after the kill was reconciled %s later", killedReady)
	})

	It("hands over within 5s when the leader is terminated gracefully", func() {
		Expect(isLeader(standby)).To(BeTrue())
		oldID := holder()
		leader, standby = standby, startManager("standby-2", kubeconfig, true)
		Consistently(func() bool { return isLeader(standby) }, time.Second).Should(BeFalse())

		By("SIGTERM to the leader")
		t0 := time.Now()
		graceful := make(chan bool, 1)
		go func() { graceful <- leader.Terminate(30 * time.Second) }()
		setReplicas(ns, "f-001", 3)
		Eventually(func() bool { h := holder(); return h != "" && h != oldID }).
			WithTimeout(leaseDuration + 10*time.Second).Should(BeTrue())
		handover := time.Since(t0)
		Eventually(isLeader).WithArguments(standby).Should(BeTrue())
		Eventually(serverConverged(ns, "f-001")).Should(Succeed())
		reconciled := time.Since(t0)
		exited := <-graceful
		fixture.Figure(AddReportEntry, "failover-term", "SIGTERM to the leader: Lease released and taken over in %s (limit 5.0s), change reconciled in %s; "+
			"kill -9: taken over in %s, reconciled in %s (limit %s)",
			fixture.Secs(handover), fixture.Secs(reconciled), fixture.Secs(killed), fixture.Secs(killedReady), fixture.Secs(leaseDuration+5*time.Second))
		Expect(exited).To(BeTrue(), "the leader did not exit within 30s of SIGTERM")
		Expect(handover).To(BeNumerically("<=", 5*time.Second))
	})
}
