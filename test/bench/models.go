package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/faketriton"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

// The model-status scenario (-models N): N servers of 2 replicas, half in
// mode none and half in mode explicit with two declared models, their pods
// played by the bench (the API server has no kubelet) at simulated IPs that
// the manager's --triton-address-map sends to one fake Triton on loopback.
// The same fleet is measured with model reading off, then on: what reading
// adds in requests to pods, API writes (to converge, and once converged),
// manager CPU and memory. The manager runs with its own defaults (those of
// config/manager) plus the address map.
const (
	tritonImage    = "triton"
	modelsNS       = "models"
	modelsReplicas = 2
	modelsWindow   = 60 * time.Second
)

// declaredModels are the models of the fleet's explicit servers.
var declaredModels = []string{"resnet", "bert"}

// podIP is the simulated address of replica r of server i.
func podIP(i, r int) string { return fmt.Sprintf("10.%d.%d.%d", 1+r, i/250, i%250+1) }

// serverOfIP inverts podIP for the fake's profile.
func serverOfIP(host string) (int, bool) {
	ap, err := netip.ParseAddrPort(host)
	if err != nil {
		return 0, false
	}
	b := ap.Addr().As4()
	return int(b[2])*250 + int(b[3]) - 1, true
}

func modelsProfile(host string) faketriton.Profile {
	i, ok := serverOfIP(host)
	if !ok {
		return faketriton.Profile{Unknown: true}
	}
	return faketriton.Profile{Explicit: i%2 == 1, Repository: append(slices.Clone(declaredModels), "gpt")}
}

type phaseFigures struct {
	Converge     time.Duration
	ConvergeW    float64
	SteadyWrites float64
	Requests     float64
	Loads        int
	CPUSeconds   float64
	RSS, HWM     float64
}

func runModels(ctx context.Context, s settings, n int) error {
	out, cp, kubeconfig, err := setUp(ctx, s)
	if err != nil {
		return err
	}
	defer cp.Stop()
	fake := faketriton.New(modelsProfile)
	addr, err := faketriton.Start(ctx, "127.0.0.1:0", fake)
	if err != nil {
		return err
	}
	wc, err := client.NewWithWatch(cp.Admin, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	go playDeploymentController(ctx, wc)

	fmt.Printf("creating %d servers and %d pods ...\n", n, n*modelsReplicas)
	if err := createFleet(ctx, cp.Client, n); err != nil {
		return err
	}
	logPath := filepath.Join(out, "manager-models.log")
	var figs [2]phaseFigures
	for phase, extra := range [][]string{nil, {"--triton-address-map", "10.0.0.0/8=" + addr.String()}} {
		f, err := modelsPhase(ctx, s, cp.Client, fake, n, kubeconfig, logPath, extra, phase == 1)
		if err != nil {
			return err
		}
		figs[phase] = f
	}
	printModels(n, figs)
	return nil
}

// createFleet creates the servers, then their pods, running and ready.
func createFleet(ctx context.Context, c client.Client, n int) error {
	if err := c.Create(ctx, fixture.Namespace(modelsNS)); err != nil {
		return err
	}
	if err := c.Create(ctx, fixture.Application(modelsNS, appName)); err != nil {
		return err
	}
	if err := fixture.Parallel(n, 16, func(i int) error {
		srv := fixture.Server(modelsNS, fmt.Sprintf("srv-%05d", i), fixture.WithApplication(appName),
			fixture.WithReplicas(modelsReplicas))
		if i%2 == 1 {
			srv.Spec.TritonConfig.ModelControl = &servingv1alpha1.ModelControl{Mode: servingv1alpha1.ModelControlExplicit,
				Models: declaredModels}
		}
		return c.Create(ctx, srv)
	}); err != nil {
		return err
	}
	return fixture.Parallel(n*modelsReplicas, 16, func(k int) error {
		i, r := k/modelsReplicas, k%modelsReplicas
		name := fmt.Sprintf("srv-%05d", i)
		labels := render.SelectorLabels(name)
		labels[render.LabelManagedBy] = render.ManagedByValue
		labels[appsv1.DefaultDeploymentUniqueLabelKey] = "h1"
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: modelsNS, Name: fmt.Sprintf("%s-h1-%d", name, r), Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-h1",
					UID: types.UID("rs-" + name), Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: render.ContainerName, Image: tritonImage}}},
		}
		if err := c.Create(ctx, pod); err != nil {
			return err
		}
		now := metav1.Now()
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: podIP(i, r), PodIPs: []corev1.PodIP{{IP: podIP(i, r)}},
			Conditions: []corev1.PodCondition{
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: render.ContainerName, Ready: true, Image: tritonImage, ImageID: tritonImage}}}
		return c.Status().Update(ctx, pod)
	})
}

// playDeploymentController reports every Deployment of the fleet available
// once it changes, as the Deployment controller the API server lacks would.
func playDeploymentController(ctx context.Context, wc client.WithWatch) {
	for ctx.Err() == nil {
		w, err := wc.Watch(ctx, &appsv1.DeploymentList{}, client.InNamespace(modelsNS))
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok || ev.Type == watch.Deleted || d.Status.ObservedGeneration == d.Generation {
				continue
			}
			fixture.SetAvailable(d)
			_ = wc.Status().Update(ctx, d)
		}
	}
}

// modelsPhase runs the manager until every server is Ready (and, with
// reading on, every server's models are), waits for its writes to stop,
// and measures a steady window.
func modelsPhase(ctx context.Context, s settings, c client.Client, fake *faketriton.Server, n int,
	kubeconfig, logPath string, extra []string, reading bool) (phaseFigures, error) {
	var f phaseFigures
	m, err := startManagerWith(ctx, s, kubeconfig, logPath, extra)
	if err != nil {
		return f, err
	}
	defer m.Terminate(30 * time.Second)
	start := time.Now()
	loads0 := totalLoads(fake, n)
	if err := waitFleet(ctx, c, n, reading); err != nil {
		return f, err
	}
	if err := waitNoWrites(ctx, m); err != nil {
		return f, err
	}
	f.Converge = time.Since(start)
	before, err := m.Metrics()
	if err != nil {
		return f, err
	}
	f.ConvergeW = before.Writes
	f.Loads = totalLoads(fake, n) - loads0
	cpu0, req0, loadsSteady := cpuSeconds(m.PID()), fake.Requests(), totalLoads(fake, n)
	mode := map[bool]string{false: "off", true: "on"}[reading]
	fmt.Printf("reading %s: converged in %s; steady window of %s ...\n", mode, f.Converge.Round(time.Second), modelsWindow)
	select {
	case <-ctx.Done():
		return f, ctx.Err()
	case <-time.After(modelsWindow):
	}
	after, err := m.Metrics()
	if err != nil {
		return f, err
	}
	f.SteadyWrites = after.Writes - before.Writes
	f.Requests = float64(fake.Requests()-req0) / modelsWindow.Seconds()
	f.CPUSeconds = cpuSeconds(m.PID()) - cpu0
	f.RSS, f.HWM = m.Memory()
	if extraLoads := totalLoads(fake, n) - loadsSteady; extraLoads != 0 {
		return f, fmt.Errorf("%d loads in the steady window: a READY model was loaded again", extraLoads)
	}
	return f, nil
}

// startManagerWith starts the manager with the binary's own defaults (as
// config/manager ships them) plus extra flags.
func startManagerWith(ctx context.Context, s settings, kubeconfig, logPath string, extra []string) (*manager, error) {
	return process.StartManager(ctx, process.ManagerOptions{Binary: s.ManagerBinary, Kubeconfig: kubeconfig, LogPath: logPath,
		ExtraArgs: append(pprofArgs(s), extra...)})
}

// waitFleet waits until every server is Ready for its current generation
// (and, with reading, reports ModelsReady True).
func waitFleet(ctx context.Context, c client.Client, n int, reading bool) error {
	deadline := time.Now().Add(roundTimeout)
	for time.Now().Before(deadline) {
		var list servingv1alpha1.KalypsoTritonServerList
		if err := c.List(ctx, &list, client.InNamespace(modelsNS)); err != nil {
			return err
		}
		done := 0
		for i := range list.Items {
			srv := &list.Items[i]
			ok := fixture.ServerReady(srv)
			if reading {
				ok = ok && meta.IsStatusConditionTrue(srv.Status.Conditions, servingv1alpha1.ConditionModelsReady)
			}
			if ok {
				done++
			}
		}
		if done == n {
			return nil
		}
		if time.Now().Second()%15 == 0 {
			fmt.Printf("  %d of %d servers converged\n", done, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return errors.New("the fleet did not converge in time")
}

// waitNoWrites waits until the manager made no API write for 5 s (with
// reading on, reconciles never stop: the pods are read on an interval).
func waitNoWrites(ctx context.Context, m *manager) error {
	return waitSteady(ctx, m, 5*time.Second, func(prev, cur counters) bool { return cur.Writes == prev.Writes })
}

func totalLoads(fake *faketriton.Server, n int) int {
	sum := 0
	for i := 1; i < n; i += 2 {
		for r := range modelsReplicas {
			for _, m := range declaredModels {
				sum += fake.Loads(podIP(i, r)+":8000", m)
			}
		}
	}
	return sum
}

// cpuSeconds is the user and system CPU time of a process, from /proc.
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at state.
	rest := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(rest[11], 64)
	stime, _ := strconv.ParseFloat(rest[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

func printModels(n int, f [2]phaseFigures) {
	fmt.Printf("\nModel status at N=%d servers x %d replicas (half mode none, half explicit with 2 declared models), window %s\n\n",
		n, modelsReplicas, modelsWindow)
	fmt.Println("| reading | converged in (s) | API writes to converge | API writes in window | requests/s to pods | " +
		"model loads | manager CPU in window (s) | RSS (MiB) | peak RSS (MiB) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for i, name := range []string{"off", "on"} {
		x := f[i]
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.1f | %d | %.1f | %.0f | %.0f |\n", name, x.Converge.Seconds(), x.ConvergeW,
			x.SteadyWrites, x.Requests, x.Loads, x.CPUSeconds, x.RSS, x.HWM)
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	fmt.Printf("\non/off: CPU in window %.2fx, RSS %.2fx; writes once converged with reading on: %.0f\n",
		ratio(f[1].CPUSeconds, f[0].CPUSeconds), ratio(f[1].RSS, f[0].RSS), f[1].SteadyWrites)
}
