package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// nResult holds every figure measured at one N.
type nResult struct {
	N              int              `json:"n"`
	Baseline       []baselineResult `json:"baseline"`
	Operator       []operatorResult `json:"operator"`
	Live           operatorResult   `json:"live"`
	IdealSeconds   []float64        `json:"tIdealSeconds"`
	Ratios         []float64        `json:"ratiosOverIdeal"`
	RatioMedian    float64          `json:"ratioMedian"`
	RatioMin       float64          `json:"ratioMin"`
	RatioMax       float64          `json:"ratioMax"`
	P50Ms          float64          `json:"p50Ms"`
	P90Ms          float64          `json:"p90Ms"`
	P99Ms          float64          `json:"p99Ms"`
	WritesPerSrv   float64          `json:"writesPerServer"`
	Conflicts      float64          `json:"conflicts"`
	RSSMiB         float64          `json:"rssMiB"`
	HWMMiB         float64          `json:"hwmMiB"`
	AnonMiB        float64          `json:"rssAnonMiB"`
	FileMiB        float64          `json:"rssFileMiB"`
	RSSPerServerKB float64          `json:"rssPerServerKiB"`
}

// steadyResult is the converged-system check at the largest N.
type steadyResult struct {
	N                    int           `json:"n"`
	Window               time.Duration `json:"windowNs"`
	Writes               float64       `json:"writes"`
	RestartSeconds       float64       `json:"restartSeconds"`
	RestartWrites        float64       `json:"restartWrites"`
	TouchedDeployments   int           `json:"touchedDeployments"`
	ChurnedObjects       int           `json:"churnedObjects"`
	RSSBeforeMiB         float64       `json:"rssBeforeUnrelatedMiB"`
	RSSAfterMiB          float64       `json:"rssAfterUnrelatedMiB"`
	AnonBeforeMiB        float64       `json:"rssAnonBeforeUnrelatedMiB"`
	HeapBeforeMiB        float64       `json:"heapInuseBeforeUnrelatedMiB"`
	HeapAfterMiB         float64       `json:"heapInuseAfterUnrelatedMiB"`
	AnonAfterMiB         float64       `json:"rssAnonAfterUnrelatedMiB"`
	GrowthPercent        float64       `json:"rssGrowthPercent"`
	UnrelatedReconciles  float64       `json:"reconcilesFromUnrelated"`
	UnrelatedObjectCount int           `json:"unrelatedObjects"`
}

type report struct {
	Settings settings          `json:"settings"`
	Machine  map[string]string `json:"machine"`
	WMin     int               `json:"wMin"`
	Results  []nResult         `json:"results"`
	Steady   *steadyResult     `json:"steady,omitempty"`
}

// setUp makes the output directory, starts the control plane and writes
// the manager's kubeconfig; the caller stops cp.
func setUp(ctx context.Context, s settings) (out string, cp *controlPlane, kubeconfig string, err error) {
	if err := os.MkdirAll(s.Out, 0o755); err != nil {
		return "", nil, "", err
	}
	if out, err = filepath.Abs(s.Out); err != nil {
		return "", nil, "", err
	}
	fmt.Println("starting kube-apiserver + etcd (RBAC) ...")
	if cp, err = startControlPlane(ctx, s); err != nil {
		return "", nil, "", err
	}
	if kubeconfig, err = cp.ManagerKubeconfig(ctx, out); err != nil {
		cp.Stop()
		return "", nil, "", err
	}
	return out, cp, kubeconfig, nil
}

func run(ctx context.Context, s settings) error {
	out, cp, kubeconfig, err := setUp(ctx, s)
	if err != nil {
		return err
	}
	defer cp.Stop()
	logPath := filepath.Join(out, "manager.log")
	_ = os.Remove(logPath)
	m, err := startManager(ctx, s, kubeconfig, logPath)
	if err != nil {
		return err
	}
	defer func() { m.Kill() }()

	rep := report{Settings: s, Machine: machineInfo(), WMin: wMin}
	for _, n := range s.Ns {
		res := nResult{N: n}
		rounds := s.Rounds
		if n >= 10000 {
			rounds = s.Rounds10k
		}
		for r := 0; r < rounds; r++ {
			b, err := baselineRound(ctx, cp, m, s, n, r)
			if err != nil {
				return fmt.Errorf("baseline round %d at %d servers: %w", r, n, err)
			}
			o, err := operatorRound(ctx, cp, m, s, n, fmt.Sprintf("o-%d-%d", n, r), true)
			if err != nil {
				return fmt.Errorf("operator round %d at %d servers: %w", r, n, err)
			}
			ideal := float64(n*wMin) / b.WritesPerSec
			res.Baseline = append(res.Baseline, b)
			res.Operator = append(res.Operator, o)
			res.IdealSeconds = append(res.IdealSeconds, ideal)
			res.Ratios = append(res.Ratios, o.Completion.Seconds()/ideal)
			fmt.Printf("N=%-5d round %d: baseline %.0f writes/s, T_ideal %.3fs, operator %.3fs (x%.2f), %.2f writes/server\n",
				n, r, b.WritesPerSec, ideal, o.Completion.Seconds(), o.Completion.Seconds()/ideal, o.WritesPerServer)
			if err := cleanup(ctx, cp.Client, fmt.Sprintf("o-%d-%d", n, r)); err != nil {
				return err
			}
			if err := waitQuiet(ctx, m); err != nil {
				return err
			}
		}
		live, err := operatorRound(ctx, cp, m, s, n, liveNamespace(n), false)
		if err != nil {
			return fmt.Errorf("live round at %d servers: %w", n, err)
		}
		res.Live = live
		fmt.Printf("N=%-5d live round: burst %.3fs, p50 %.1fms, p99 %.1fms, %.2f writes/server\n",
			n, live.Completion.Seconds(), fixture.Percentile(live.LatenciesMs, 50), fixture.Percentile(live.LatenciesMs, 99), live.WritesPerServer)
		summarize(&res)
		if s.Pprof != "" {
			if err := saveHeapProfile(s.Pprof, filepath.Join(out, fmt.Sprintf("heap-%d.pb.gz", n))); err != nil {
				return err
			}
		}
		res.RSSMiB, res.HWMMiB = m.Memory()
		res.AnonMiB, res.FileMiB = rssSplit(m)
		res.RSSPerServerKB = res.RSSMiB * 1024 / float64(totalServers(s, n))
		rep.Results = append(rep.Results, res)
		// Saved after every N, so a later failure keeps what was measured.
		if err := writeReport(rep, out); err != nil {
			return err
		}
	}

	steady, m2, err := steadyState(ctx, cp, m, s, kubeconfig, logPath)
	m = m2
	if err != nil {
		return err
	}
	rep.Steady = steady

	if err := writeReport(rep, out); err != nil {
		return err
	}
	printTable(rep)
	fmt.Printf("\nwrote %s and %s\n", filepath.Join(s.Out, "bench.json"), filepath.Join(s.Out, "latency.png"))
	return nil
}

// totalServers is how many servers exist when N's rounds end: the last
// operator round of every N measured so far is kept.
func totalServers(s settings, upTo int) int {
	total := 0
	for _, n := range s.Ns {
		total += n
		if n == upTo {
			break
		}
	}
	return total
}

// writeReport writes bench.json and the latency plot.
func writeReport(rep report, out string) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "bench.json"), data, 0o644); err != nil {
		return err
	}
	return plot(rep, filepath.Join(out, "latency.png"))
}

// liveNamespace holds the servers of N's live round, which stay for the
// larger Ns and the steady-state checks.
func liveNamespace(n int) string { return fmt.Sprintf("l-%d", n) }

func summarize(res *nResult) {
	lat := res.Live.LatenciesMs
	res.P50Ms, res.P90Ms, res.P99Ms = fixture.Percentile(lat, 50), fixture.Percentile(lat, 90), fixture.Percentile(lat, 99)
	writes, conflicts := res.Live.WritesPerServer, res.Live.Conflicts
	for _, o := range res.Operator {
		writes += o.WritesPerServer
		conflicts += o.Conflicts
	}
	res.WritesPerSrv = writes / float64(len(res.Operator)+1)
	res.Conflicts = conflicts
	r := append([]float64(nil), res.Ratios...)
	sort.Float64s(r)
	res.RatioMin, res.RatioMax, res.RatioMedian = r[0], r[len(r)-1], r[len(r)/2]
}

// steadyState checks that a converged system makes no writes while its
// Deployments are touched by another tool, unrelated objects churn and the
// manager restarts; then how memory reacts to unrelated Secrets and ConfigMaps.
func steadyState(ctx context.Context, cp *controlPlane, m *manager, s settings, kubeconfig, logPath string) (*steadyResult, *manager, error) {
	n := s.Ns[len(s.Ns)-1]
	res := &steadyResult{N: n, Window: s.Steady}
	fmt.Printf("steady state: %d servers, %s window ...\n", n, s.Steady)
	if err := waitQuiet(ctx, m); err != nil {
		return nil, m, err
	}
	start := time.Now()
	before, err := m.Metrics()
	if err != nil {
		return nil, m, err
	}
	if err := disturb(ctx, cp, s, liveNamespace(n), res); err != nil {
		return nil, m, err
	}
	if err := waitQuiet(ctx, m); err != nil {
		return nil, m, err
	}
	mid, err := m.Metrics()
	if err != nil {
		return nil, m, err
	}
	res.Writes = mid.Writes - before.Writes

	m, afterRestart, err := restart(ctx, m, s, kubeconfig, logPath, res)
	if err != nil {
		return nil, m, err
	}
	if rest := s.Steady - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
	end, err := m.Metrics()
	if err != nil {
		return nil, m, err
	}
	res.Writes += end.Writes - afterRestart.Writes
	return res, m, unrelatedMemory(ctx, cp, m, s, end, res)
}

// disturb touches every converged Deployment as another tool would (each
// event wakes a reconcile) and churns unrelated ConfigMaps.
func disturb(ctx context.Context, cp *controlPlane, s settings, ns string, res *steadyResult) error {
	var deps appsv1.DeploymentList
	if err := cp.Client.List(ctx, &deps, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range deps.Items {
		d := &deps.Items[i]
		patch := client.MergeFrom(d.DeepCopy())
		if d.Labels == nil {
			d.Labels = map[string]string{}
		}
		d.Labels["bench.kalypso.io/touched"] = "true"
		if err := cp.Client.Patch(ctx, d, patch); err != nil {
			return err
		}
	}
	res.TouchedDeployments = len(deps.Items)
	if err := cp.Client.Create(ctx, fixture.Namespace("churn")); err != nil {
		return err
	}
	res.ChurnedObjects = s.Churn * 2
	return fixture.Parallel(s.Churn, s.Concurrency, func(i int) error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "churn", Name: fmt.Sprintf("cm-%05d", i)},
			Data: map[string]string{"v": "1"}}
		if err := cp.Client.Create(ctx, cm); err != nil {
			return err
		}
		cm.Data["v"] = "2"
		return cp.Client.Update(ctx, cm)
	})
}

// restart replaces the manager and times how long the new one takes to
// re-check every server; everything it writes is counted.
func restart(ctx context.Context, m *manager, s settings, kubeconfig, logPath string, res *steadyResult) (*manager, counters, error) {
	m.Kill()
	began := time.Now()
	m, err := startManager(ctx, s, kubeconfig, logPath)
	if err != nil {
		return nil, counters{}, err
	}
	want := float64(totalServers(s, res.N))
	if err := fixture.WaitFor(ctx, 5*time.Minute, func() bool {
		c, err := m.Metrics()
		return err == nil && c.Reconciles["kalypsotritonserver"] >= want
	}); err != nil {
		return m, counters{}, fmt.Errorf("restart: %w", err)
	}
	res.RestartSeconds = time.Since(began).Seconds()
	if err := waitQuiet(ctx, m); err != nil {
		return m, counters{}, err
	}
	c, err := m.Metrics()
	if err != nil {
		return m, counters{}, err
	}
	res.RestartWrites = c.Writes
	res.Writes += c.Writes
	return m, c, nil
}

// unrelatedMemory adds Secrets and ConfigMaps no Kalypso object refers to
// and reports the manager's memory growth and reconciles.
func unrelatedMemory(ctx context.Context, cp *controlPlane, m *manager, s settings, before counters, res *steadyResult) error {
	res.RSSBeforeMiB, _ = m.Memory()
	res.AnonBeforeMiB, _ = rssSplit(m)
	res.HeapBeforeMiB = heapInuse(s.Pprof)
	if err := cp.Client.Create(ctx, fixture.Namespace("unrelated")); err != nil {
		return err
	}
	payload := strings.Repeat("x", 512)
	if err := fixture.Parallel(s.Unrelated, s.Concurrency, func(i int) error {
		if err := cp.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "unrelated", Name: fmt.Sprintf("s-%05d", i)},
			StringData: map[string]string{"k": payload}}); err != nil {
			return err
		}
		return cp.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "unrelated", Name: fmt.Sprintf("c-%05d", i)},
			Data: map[string]string{"k": payload}})
	}); err != nil {
		return err
	}
	res.UnrelatedObjectCount = 2 * s.Unrelated
	if err := waitQuiet(ctx, m); err != nil {
		return err
	}
	runtimeGC()
	res.RSSAfterMiB, _ = m.Memory()
	res.AnonAfterMiB, _ = rssSplit(m)
	res.HeapAfterMiB = heapInuse(s.Pprof)
	after, err := m.Metrics()
	if err != nil {
		return err
	}
	res.UnrelatedReconciles = totalReconciles(after) - totalReconciles(before)
	if res.RSSBeforeMiB > 0 {
		res.GrowthPercent = 100 * (res.RSSAfterMiB - res.RSSBeforeMiB) / res.RSSBeforeMiB
	}
	return nil
}

// rssSplit splits the manager's resident memory into anonymous memory (its
// heap, stacks and runtime: what its work costs) and file-backed pages (the
// binary's code and read-only data, shared and reclaimable), in MiB.
func rssSplit(m *manager) (anon, file float64) {
	v := m.ProcStatus("RssAnon", "RssFile")
	return v["RssAnon"], v["RssFile"]
}

// heapInuse is the manager's heap in use right after a collection (what it
// retains, without garbage awaiting collection or pages not yet returned to
// the OS), in MiB; 0 without -pprof.
func heapInuse(addr string) float64 {
	if addr == "" {
		return 0
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			var b float64
			_, _ = fmt.Sscan(v, &b)
			return b / (1 << 20)
		}
	}
	return 0
}

// runtimeGC gives the manager's Go runtime a moment to return memory.
func runtimeGC() { time.Sleep(5 * time.Second) }

func machineInfo() map[string]string {
	info := map[string]string{
		"go":         runtime.Version(),
		"goos":       runtime.GOOS,
		"goarch":     runtime.GOARCH,
		"cpus":       fmt.Sprint(runtime.NumCPU()),
		"kubernetes": "v1.37.2 (kube-apiserver built from k8s.io/kubernetes)",
		"etcd":       "v3.7.0",
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				info["cpu"] = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		info["memory"] = strings.TrimSpace(strings.SplitN(strings.Split(string(data), "\n")[0], ":", 2)[1])
	}
	return info
}

func printTable(rep report) {
	fmt.Printf("\n%-6s %10s %10s %8s %8s %8s %8s %12s %8s %8s %9s %9s\n",
		"N", "T_ideal s", "O s", "O/B med", "min", "max", "p50 ms", "p99 ms", "wr/srv", "W_min", "RSS MiB", "anon MiB")
	for _, r := range rep.Results {
		var ideal, comp float64
		for i := range r.Operator {
			ideal += r.IdealSeconds[i]
			comp += r.Operator[i].Completion.Seconds()
		}
		k := float64(len(r.Operator))
		fmt.Printf("%-6d %10.3f %10.3f %8.2f %8.2f %8.2f %8.1f %12.1f %8.2f %8d %9.1f %9.1f\n",
			r.N, ideal/k, comp/k, r.RatioMedian, r.RatioMin, r.RatioMax, r.P50Ms, r.P99Ms, r.WritesPerSrv, rep.WMin, r.RSSMiB, r.AnonMiB)
	}
	if st := rep.Steady; st != nil {
		fmt.Printf("\nsteady state (N=%d, %s): %.0f writes (touched %d Deployments, churned %d unrelated objects, restarted)\n",
			st.N, st.Window, st.Writes, st.TouchedDeployments, st.ChurnedObjects)
		fmt.Printf("restart: %.2fs to re-check every server, %.0f writes\n", st.RestartSeconds, st.RestartWrites)
		fmt.Printf("unrelated objects (%d): RSS %.1f -> %.1f MiB (%+.1f%%; anonymous %.1f -> %.1f; heap in use after GC %.1f -> %.1f), %.0f reconciles\n",
			st.UnrelatedObjectCount, st.RSSBeforeMiB, st.RSSAfterMiB, st.GrowthPercent, st.AnonBeforeMiB, st.AnonAfterMiB,
			st.HeapBeforeMiB, st.HeapAfterMiB, st.UnrelatedReconciles)
	}
}
