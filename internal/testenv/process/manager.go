package process

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ManagerOptions configure StartManager.
type ManagerOptions struct {
	// Binary is the manager binary (required).
	Binary string
	// Kubeconfig the manager uses (required), e.g. from ManagerKubeconfig.
	Kubeconfig string
	// LogPath receives the manager's stdout and stderr (appended).
	LogPath string
	// QPS and Burst of the manager's client; flags are omitted when zero.
	QPS   float64
	Burst int
	// MaxConcurrentReconciles per kind; the flag is omitted when zero.
	MaxConcurrentReconciles int
	// LeaderElect turns on leader election, with its Lease in
	// LeaderElectionNamespace (the manager's default when empty).
	LeaderElect             bool
	LeaderElectionNamespace string
	// ExtraArgs are appended to the command line.
	ExtraArgs []string
	// StartTimeout bounds the wait for the metrics endpoint; 30s when zero.
	StartTimeout time.Duration
}

// Manager is the manager binary running as a child process. Its metrics are
// served over plain HTTP on a free local port.
type Manager struct {
	cmd         *exec.Cmd
	metricsAddr string
	log         *os.File
	done        chan struct{}
	closeOnce   sync.Once
}

// StartManager starts the manager and returns once its metrics endpoint
// answers (which does not wait for leader election).
func StartManager(ctx context.Context, opts ManagerOptions) (*Manager, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{
		"--kubeconfig", opts.Kubeconfig,
		"--metrics-bind-address", addr, "--metrics-secure=false",
		"--health-probe-bind-address", "0",
	}
	if opts.QPS > 0 {
		args = append(args, "--kube-api-qps", strconv.FormatFloat(opts.QPS, 'f', -1, 64))
	}
	if opts.Burst > 0 {
		args = append(args, "--kube-api-burst", strconv.Itoa(opts.Burst))
	}
	if opts.MaxConcurrentReconciles > 0 {
		args = append(args, "--max-concurrent-reconciles", strconv.Itoa(opts.MaxConcurrentReconciles))
	}
	if opts.LeaderElect {
		args = append(args, "--leader-elect")
		if opts.LeaderElectionNamespace != "" {
			args = append(args, "--leader-election-namespace", opts.LeaderElectionNamespace)
		}
	}
	args = append(args, opts.ExtraArgs...)
	cmd := exec.CommandContext(ctx, opts.Binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", opts.Binary, err)
	}
	m := &Manager{cmd: cmd, metricsAddr: addr, log: logFile, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(m.done)
	}()
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := m.Metrics(); err == nil {
			return m, nil
		}
		if m.Exited() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.Kill()
	return nil, fmt.Errorf("manager did not serve metrics within %s; see %s", timeout, opts.LogPath)
}

// PID is the manager's process id.
func (m *Manager) PID() int { return m.cmd.Process.Pid }

// MetricsAddr is the host:port of the manager's metrics endpoint.
func (m *Manager) MetricsAddr() string { return m.metricsAddr }

// Done is closed once the process has exited.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Exited reports whether the process has exited.
func (m *Manager) Exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the manager without waiting.
func (m *Manager) Signal(sig syscall.Signal) error { return m.cmd.Process.Signal(sig) }

// Pause stops the process (SIGSTOP); Resume continues it.
func (m *Manager) Pause() { _ = m.Signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (m *Manager) Resume() { _ = m.Signal(syscall.SIGCONT) }

// Kill kills the process (SIGKILL, after SIGCONT in case it is paused),
// waits for it to exit and closes its log. It is safe to call more than once.
func (m *Manager) Kill() {
	_ = m.Signal(syscall.SIGCONT)
	_ = m.cmd.Process.Kill()
	<-m.done
	m.closeLog()
}

// Terminate sends SIGTERM and waits up to timeout for a graceful exit,
// then kills the process. It reports whether the exit was graceful.
func (m *Manager) Terminate(timeout time.Duration) bool {
	_ = m.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		m.closeLog()
		return true
	case <-time.After(timeout):
		m.Kill()
		return false
	}
}

func (m *Manager) closeLog() { m.closeOnce.Do(func() { _ = m.log.Close() }) }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Counters are the manager's cumulative client and controller figures.
type Counters struct {
	Writes     float64 // POST, PUT, PATCH, DELETE requests
	Reads      float64 // GET and LIST requests
	Conflicts  float64 // 409 responses
	Reconciles map[string]float64
	// Leader is true when the manager's leader_election_master_status
	// gauge is 1: it holds the Lease. Always false without leader election.
	Leader bool
}

// Metrics scrapes the manager's Prometheus endpoint.
func (m *Manager) Metrics() (Counters, error) {
	resp, err := http.Get("http://" + m.metricsAddr + "/metrics")
	if err != nil {
		return Counters{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	c := Counters{Reconciles: map[string]float64{}}
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
		case strings.HasPrefix(line, "leader_election_master_status{"):
			c.Leader = value(line) == 1
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

// Memory reads VmRSS and VmHWM of the manager from /proc, in MiB.
func (m *Manager) Memory() (rss, hwm float64) {
	v := m.ProcStatus("VmRSS", "VmHWM")
	return v["VmRSS"], v["VmHWM"]
}

// ProcStatus reads the named memory fields of /proc/PID/status (e.g.
// RssAnon, RssFile), in MiB; fields that cannot be read are absent.
func (m *Manager) ProcStatus(fields ...string) map[string]float64 {
	out := map[string]float64{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(f[0], ":")
		if !slices.Contains(fields, name) {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		out[name] = v / 1024
	}
	return out
}
