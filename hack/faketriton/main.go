// Command faketriton serves one fake Triton (internal/faketriton) for every
// Triton pod of a simulated cluster, where pod IPs cannot be dialled: the
// operator's dialer maps them to this process, and the request's Host
// header names the pod.
//
// Each pod is found by IP among the pods labelled
// app.kubernetes.io/managed-by=kalypso-serving (watched through the
// kubeconfig). Its tritonserver container's arguments give its model control
// mode (explicit with --model-control-mode=explicit) and the models loaded
// at start (--load-model). Its repository holds the --models defaults, those
// models, and the models declared on its KalypsoTritonServer
// (spec.tritonConfig.modelControl.models). A new pod at a known IP, or a
// container restart, starts the fake pod afresh.
//
// Demo scripting by model name: a name ending in "-broken" fails to load
// with a realistic Triton error; one ending in "-slow" takes 20s to load.
//
// Every request is logged on one line: method, host, path, status.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/faketriton"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

const (
	podIPField = "faketriton.podIP"
	slowLoad   = 20 * time.Second
	getTimeout = 2 * time.Second
)

func main() {
	listen := flag.String("listen", "127.0.0.1:19000", "loopback IP:port to serve on")
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the local cluster (default: $KUBECONFIG or ~/.kube/config)")
	models := flag.String("models", "densenet_onnx,simple", "comma-separated models in every pod's repository")
	flag.Parse()
	ctrllog.SetLogger(zap.New())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, *kubeconfig, splitList(*models)); err != nil {
		log.Fatalf("faketriton: %v", err)
	}
}

func run(ctx context.Context, listen, kubeconfig string, defaults []string) error {
	if ap, err := netip.ParseAddrPort(listen); err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("--listen %q: want a loopback IP:port", listen)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := servingv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	c, err := cache.New(cfg, cache.Options{
		Scheme:                      scheme,
		ReaderFailOnMissingInformer: true,
		ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {
			Label: labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue}),
		}},
	})
	if err != nil {
		return err
	}
	if err := c.IndexField(ctx, &corev1.Pod{}, podIPField, podIPs); err != nil {
		return err
	}
	if _, err := c.GetInformer(ctx, &servingv1alpha1.KalypsoTritonServer{}); err != nil {
		log.Printf("no KalypsoTritonServer API (%v): declared models are not added to repositories", err)
	}
	go func() {
		if err := c.Start(ctx); err != nil {
			log.Fatalf("faketriton: pod cache: %v", err)
		}
	}()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("pod cache did not sync")
	}
	r := &resolver{cache: c, defaults: defaults, seen: map[string]string{}, scripted: map[string]bool{}}
	r.fake = faketriton.New(r.profile)
	addr, err := faketriton.Start(ctx, listen, logged(r.fake))
	if err != nil {
		return err
	}
	log.Printf("fake Triton listening on %s; repository defaults %v", addr, defaults)
	<-ctx.Done()
	return nil
}

func podIPs(o client.Object) []string {
	pod := o.(*corev1.Pod)
	var ips []string
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if pod.Status.PodIP != "" && !slices.Contains(ips, pod.Status.PodIP) {
		ips = append(ips, pod.Status.PodIP)
	}
	return ips
}

// resolver turns a Host header into the Profile of the pod at that IP.
type resolver struct {
	cache    client.Reader
	fake     *faketriton.Server
	defaults []string

	mu       sync.Mutex
	seen     map[string]string // host -> pod incarnation
	scripted map[string]bool   // model names given demo scripting
}

func (r *resolver) profile(host string) faketriton.Profile {
	ap, err := netip.ParseAddrPort(host)
	if err != nil {
		return faketriton.Profile{Unknown: true}
	}
	ctx, cancel := context.WithTimeout(context.Background(), getTimeout)
	defer cancel()
	var pods corev1.PodList
	if err := r.cache.List(ctx, &pods, client.MatchingFields{podIPField: ap.Addr().Unmap().String()}); err != nil {
		return faketriton.Profile{Unknown: true}
	}
	pod := pick(pods.Items)
	if pod == nil {
		return faketriton.Profile{Unknown: true}
	}
	var args []string
	var restarts int32
	for _, ctr := range pod.Spec.Containers {
		if ctr.Name == render.ContainerName {
			args = ctr.Args
		}
	}
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name == render.ContainerName {
			restarts = st.RestartCount
		}
	}
	prof := faketriton.Profile{Explicit: slices.Contains(args, "--model-control-mode="+string(servingv1alpha1.ModelControlExplicit))}
	repo := slices.Clone(r.defaults)
	for _, a := range args {
		if m, ok := strings.CutPrefix(a, "--load-model="); ok {
			prof.Startup = append(prof.Startup, m)
			repo = append(repo, m)
		}
	}
	var kts servingv1alpha1.KalypsoTritonServer
	key := client.ObjectKey{Namespace: pod.Namespace, Name: pod.Labels[render.LabelInstance]}
	if key.Name != "" && r.cache.Get(ctx, key, &kts) == nil && kts.Spec.TritonConfig.ModelControl != nil {
		repo = append(repo, kts.Spec.TritonConfig.ModelControl.Models...)
	}
	repo = slices.DeleteFunc(repo, func(m string) bool { return m == "*" })
	slices.Sort(repo)
	prof.Repository = slices.Compact(repo)
	r.observe(host, fmt.Sprintf("%s/%d", pod.UID, restarts), prof.Repository)
	return prof
}

// observe restarts the fake pod when another pod (or a restarted container)
// answers at host, and scripts demo models the first time they are seen.
// The fake calls profile without its lock held, so this may call it.
func (r *resolver) observe(host, incarnation string, models []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.seen[host]; ok && prev != incarnation {
		r.fake.Forget(host)
	}
	r.seen[host] = incarnation
	for _, m := range models {
		if r.scripted[m] {
			continue
		}
		r.scripted[m] = true
		switch {
		case strings.HasSuffix(m, "-broken"):
			r.fake.FailLoad(m, fmt.Sprintf("failed to load '%s' version 1: Invalid argument: model '%s', tensor 'INPUT0': "+
				"the model expects 4 dimensions (shape [-1,3,224,224]) but the model configuration specifies 3 dimensions (shape [3,224,224])", m, m))
		case strings.HasSuffix(m, "-slow"):
			r.fake.SlowLoad(m, slowLoad)
		}
	}
}

// pick prefers a running pod that is not being deleted.
func pick(pods []corev1.Pod) *corev1.Pod {
	var best *corev1.Pod
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if best == nil || (best.DeletionTimestamp != nil && p.DeletionTimestamp == nil) ||
			(best.Status.Phase != corev1.PodRunning && p.Status.Phase == corev1.PodRunning) {
			best = p
		}
	}
	return best
}

// statusRecorder notes the status a handler answers (0: it wrote a body
// without WriteHeader, so 200).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, req)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		log.Printf("%s %q %q %d", req.Method, req.Host, req.URL.Path, rec.status)
	})
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
