package faults

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

const (
	// crashRepeats is how many servers are crashed at each write count k.
	crashRepeats = 3
	// burstServers are created at once in the random variant.
	burstServers = 200
	// burstKills is how many times the manager dies during the burst.
	burstKills = 3
	// burstSeed fixes the random write counts of the burst.
	burstSeed = 20260126
)

// wMin is the fewest writes one server needs: each child it renders with
// two replicas, plus one status write.
func wMin() int {
	srv := fixture.Server("ns", "w")
	app := fixture.Application("ns", fixture.AppName)
	children, err := render.Children(render.Input{Server: srv, Application: app})
	Expect(err).NotTo(HaveOccurred())
	n := 1
	for _, c := range children {
		if c.Object != nil {
			n++
		}
	}
	return n
}

func crashSpecs() {
	var (
		proxy      *writeProxy
		kubeconfig string
		mgr        *process.Manager
		mu         sync.Mutex // guards mgr against the proxy's kill
	)
	kill := func() {
		mu.Lock()
		defer mu.Unlock()
		_ = mgr.Signal(syscall.SIGKILL)
	}
	restart := func(name string) {
		m := startManager(name, kubeconfig, false)
		mu.Lock()
		mgr = m
		mu.Unlock()
	}
	// quiet waits until the manager has made no write for a second.
	quiet := func() {
		last, since := proxy.writes(), time.Now()
		Eventually(func() bool {
			if w := proxy.writes(); w != last {
				last, since = w, time.Now()
			}
			return time.Since(since) >= time.Second
		}).WithTimeout(2 * time.Minute).Should(BeTrue())
	}

	BeforeAll(func() {
		var err error
		proxy, err = newWriteProxy(cp.Admin.Host, cp.Admin.CAData)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(proxy.Close)
		kubeconfig = filepath.Join(tmp, "proxy.kubeconfig")
		Expect(process.WriteKubeconfig(kubeconfig, proxy.URL(), proxy.CAData(), managerToken)).To(Succeed())
		restart("crash")
		DeferCleanup(func() {
			mgr.Kill()
			// Leave a lean cluster to the next fault family: a standby's
			// takeover time includes resyncing every server there is.
			cleanup("crash", "burst")
		})
	})

	It("converges with no duplicate and no orphan after dying at every write k of one server", func() {
		w := wMin()
		Expect(w).To(Equal(4), "Deployment + Service + PDB + status with two replicas")
		namespaceWithApp("crash")

		var converge []time.Duration
		var kinds []string
		for k := 1; k <= w; k++ {
			for rep := 0; rep < crashRepeats; rep++ {
				name := fmt.Sprintf("srv-k%d-%d", k, rep)
				quiet()
				tripped := proxy.arm(k, kill)
				Expect(k8s.Create(ctx, fixture.Server("crash", name))).To(Succeed())
				Eventually(tripped).WithTimeout(30*time.Second).Should(BeClosed(),
					"the manager never made write %d for %s", k+1, name)
				Eventually(mgr.Done()).Should(BeClosed())
				writes := proxy.disarm()
				Expect(writes).To(HaveLen(k))
				kinds = append(kinds, fmt.Sprintf("k=%d:%s", k, shortWrites(writes)))

				start := time.Now()
				restart(fmt.Sprintf("crash-k%d-%d", k, rep))
				Eventually(func(g Gomega) {
					st := inspect(g, "crash")
					g.Expect(st.Duplicates).To(BeZero())
					g.Expect(st.Problems).To(BeEmpty())
				}).Should(Succeed())
				converge = append(converge, time.Since(start))
			}
		}
		quiet()
		var st state
		var checked int
		var orphaned []string
		Eventually(func(g Gomega) {
			st = inspect(g, "crash")
			checked, orphaned = orphans(g)
		}).Should(Succeed())
		Expect(st.Servers).To(Equal(w * crashRepeats))
		Expect(st.Converged).To(Equal(st.Servers))
		Expect(st.Duplicates).To(BeZero())
		Expect(orphaned).To(BeEmpty())
		AddReportEntry("writes before each kill", countBy(kinds))
		fixture.Figure(AddReportEntry, "crash", "k=1..%d x %d servers, %d duplicates, %d orphans (%d managed objects checked), converge p50 %s p99 %s max %s",
			w, crashRepeats, st.Duplicates, len(orphaned), checked,
			fixture.Secs(fixture.Percentile(converge, 50)), fixture.Secs(fixture.Percentile(converge, 99)), fixture.Secs(fixture.Percentile(converge, 100)))
	})

	It("converges with no duplicate and no orphan after dying at random writes of a 200-server burst", func() {
		ns := "burst"
		namespaceWithApp(ns)
		quiet()
		rng := rand.New(rand.NewSource(burstSeed))
		// Each kill falls within the writes the burst still needs (about
		// wMin per server, plus the Application's status).
		budget := func() int { return 1 + rng.Intn(burstServers*wMin()/burstKills) }

		var kills []int
		tripped := proxy.arm(budget(), kill)
		created := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			created <- fixture.Parallel(burstServers, 16, func(i int) error {
				return k8s.Create(ctx, fixture.Server(ns, fmt.Sprintf("b-%03d", i)))
			})
		}()
		start := time.Now()
		for i := 0; i < burstKills; i++ {
			Eventually(tripped).WithTimeout(2*time.Minute).Should(BeClosed(), "kill %d never came", i+1)
			Eventually(mgr.Done()).Should(BeClosed())
			kills = append(kills, len(proxy.disarm()))
			restart(fmt.Sprintf("burst-%d", i))
			if i < burstKills-1 {
				tripped = proxy.arm(budget(), kill)
			}
		}
		restarted := time.Now()
		Expect(<-created).To(Succeed())

		var st state
		Eventually(func(g Gomega) {
			st = inspect(g, ns)
			g.Expect(st.Servers).To(Equal(burstServers))
			g.Expect(st.Duplicates).To(BeZero())
			g.Expect(st.Converged).To(Equal(burstServers), "%v", st.Problems)
		}).WithTimeout(3 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		converged := time.Since(restarted)
		total := time.Since(start)
		var checked int
		var orphaned []string
		Eventually(func(g Gomega) { checked, orphaned = orphans(g) }).Should(Succeed())
		Expect(orphaned).To(BeEmpty())
		fixture.Figure(AddReportEntry, "crash-burst", "%d servers, %d kills after %v writes (seed %d), %d duplicates, %d orphans (%d managed objects checked), "+
			"converged %s after the last restart, %s in all", burstServers, len(kills), kills, burstSeed, st.Duplicates, len(orphaned),
			checked, fixture.Secs(converged), fixture.Secs(total))
	})
}

// shortWrites abbreviates forwarded writes as METHOD resource[/subresource].
func shortWrites(writes []string) string {
	out := make([]string, 0, len(writes))
	for _, w := range writes {
		method, path, _ := strings.Cut(w, " ")
		parts := strings.Split(strings.Trim(path, "/"), "/")
		res := path
		// .../namespaces/<ns>/<resource>/<name>[/<sub>]
		for i := 0; i+2 < len(parts); i++ {
			if parts[i] == "namespaces" {
				res = parts[i+2]
				if i+4 < len(parts) {
					res += "/" + parts[i+4]
				}
				break
			}
		}
		out = append(out, method+" "+res)
	}
	return strings.Join(out, ",")
}
