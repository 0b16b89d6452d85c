package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const (
	managerNS = "kalypso-serving-system"
	managerSA = "kalypso-serving-controller-manager"
)

// controlPlane is kube-apiserver + etcd with RBAC, the CRDs and the
// manager's RBAC installed.
type controlPlane struct {
	env    *envtest.Environment
	admin  *rest.Config
	client client.Client
}

func startControlPlane(ctx context.Context, s settings) (*controlPlane, error) {
	env, err := testenv.New()
	if err != nil {
		return nil, err
	}
	// Authorize with RBAC, as a real cluster does, so the manager's
	// ServiceAccount has only the permissions of config/rbac.
	env.ControlPlane.GetAPIServer().Configure().Set("authorization-mode", "RBAC")
	// Room for 10,000 Services (envtest's default range holds 256).
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/12")
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{env: env, admin: cfg, client: c}
	if err := cp.installRBAC(ctx, s.Kustomize); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *controlPlane) stop() { _ = cp.env.Stop() }

// installRBAC applies config/local (namespace, CRDs, the manager's RBAC).
func (cp *controlPlane) installRBAC(ctx context.Context, kustomize string) error {
	if kustomize == "" {
		return errors.New("set -kustomize or KUSTOMIZE (make bench does)")
	}
	out, err := exec.CommandContext(ctx, kustomize, "build", testenv.Path("config", "local")).Output()
	if err != nil {
		return fmt.Errorf("kustomize build config/local: %w", err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := cp.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("bench"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

// managerKubeconfig writes a kubeconfig for the manager's ServiceAccount.
func (cp *controlPlane) managerKubeconfig(ctx context.Context, dir string) (string, error) {
	cs, err := kubernetes.NewForConfig(cp.admin)
	if err != nil {
		return "", err
	}
	tr, err := cs.CoreV1().ServiceAccounts(managerNS).CreateToken(ctx, managerSA, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", managerNS, managerSA, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cp.admin.Host, CertificateAuthorityData: cp.admin.CAData}
	kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["manager"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "manager"}
	kc.CurrentContext = "manager"
	path := filepath.Join(dir, "manager.kubeconfig")
	return path, clientcmd.WriteToFile(*kc, path)
}

// manager is the manager binary running as a child process.
type manager struct {
	cmd         *exec.Cmd
	metricsAddr string
	log         *os.File
}

func startManager(ctx context.Context, s settings, kubeconfig, logPath string) (*manager, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.CommandContext(ctx, s.ManagerBinary,
		"--kubeconfig", kubeconfig,
		"--metrics-bind-address", addr, "--metrics-secure=false",
		"--health-probe-bind-address", "0",
		"--kube-api-qps", strconv.FormatFloat(s.QPS, 'f', -1, 64),
		"--kube-api-burst", strconv.Itoa(s.Burst),
		"--max-concurrent-reconciles", strconv.Itoa(s.Workers),
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.ManagerBinary, err)
	}
	m := &manager{cmd: cmd, metricsAddr: addr, log: logFile}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := m.metrics(); err == nil {
			return m, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.kill()
	return nil, fmt.Errorf("manager did not serve metrics within 30s; see %s", logPath)
}

func (m *manager) pause()  { _ = m.cmd.Process.Signal(syscall.SIGSTOP) }
func (m *manager) resume() { _ = m.cmd.Process.Signal(syscall.SIGCONT) }

func (m *manager) kill() {
	_ = m.cmd.Process.Signal(syscall.SIGCONT)
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	_ = m.log.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// counters are the manager's cumulative client and controller figures.
type counters struct {
	Writes     float64 // POST, PUT, PATCH, DELETE requests
	Reads      float64 // GET and LIST requests
	Conflicts  float64 // 409 responses
	Reconciles map[string]float64
}

// metrics scrapes the manager's Prometheus endpoint.
func (m *manager) metrics() (counters, error) {
	resp, err := http.Get("http://" + m.metricsAddr + "/metrics")
	if err != nil {
		return counters{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	c := counters{Reconciles: map[string]float64{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "rest_client_requests_total{"):
			v := value(line)
			method := label(line, "method")
			switch method {
			case "POST", "PUT", "PATCH", "DELETE":
				c.Writes += v
			case "GET", "LIST":
				c.Reads += v
			}
			if label(line, "code") == "409" {
				c.Conflicts += v
			}
		case strings.HasPrefix(line, "controller_runtime_reconcile_total{"):
			c.Reconciles[label(line, "controller")] += value(line)
		}
	}
	return c, sc.Err()
}

func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	tail := line[i+len(name)+2:]
	return tail[:strings.IndexByte(tail, '"')]
}

func value(line string) float64 {
	f := strings.Fields(line)
	v, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return v
}

// memory reads VmRSS and VmHWM (KiB) of the manager from /proc.
func (m *manager) memory() (rss, hwm float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = v / 1024
		case "VmHWM:":
			hwm = v / 1024
		}
	}
	return rss, hwm
}
