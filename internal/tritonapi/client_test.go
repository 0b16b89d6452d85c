package tritonapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var pod = netip.MustParseAddrPort("10.0.0.7:8000")

// fake starts a loopback HTTP server and returns its address.
func fake(t *testing.T, h http.HandlerFunc) netip.AddrPort {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return netip.MustParseAddrPort(srv.Listener.Addr().String())
}

// clientTo maps 10.0.0.0/8 to target.
func clientTo(t *testing.T, target netip.AddrPort, o Options) *Client {
	t.Helper()
	m, err := ParseAddressMap("10.0.0.0/8=" + target.String())
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(&Dialer{Map: m}, o)
}

func kindOf(err error) string {
	var re *ResponseError
	if errors.As(err, &re) {
		return re.Kind
	}
	return ""
}

func TestIndexThroughMappedDialer(t *testing.T) {
	var host atomic.Value
	target := fake(t, func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
		_, _ = fmt.Fprint(w, `[{"name":"simple","version":"1","state":"READY"},{"name":"densenet_onnx"}]`)
	})
	got, err := clientTo(t, target, Options{}).Index(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{Name: "simple", Version: "1", State: StateReady}, {Name: "densenet_onnx"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Index = %+v, want %+v", got, want)
	}
	if host.Load() != pod.String() {
		t.Fatalf("Host header = %q, want %q", host, pod)
	}
}

// countingClient maps 10.0.0.0/8 to a dial that only counts and fails.
func countingClient(dials *atomic.Int32) *Client {
	m, _ := ParseAddressMap("10.0.0.0/8=127.0.0.1:1")
	return NewClient(&Dialer{Map: m, Dial: func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("no")
	}}, Options{})
}

func TestUnmappedPodRefused(t *testing.T) {
	var dials atomic.Int32
	c := countingClient(&dials)
	_, err := c.Index(context.Background(), netip.MustParseAddrPort("192.0.2.1:8000"))
	if !errors.Is(err, ErrNoMapping) || kindOf(err) != KindUnreachable {
		t.Fatalf("Index of an unmapped pod: %v (kind %q), want ErrNoMapping, Unreachable", err, kindOf(err))
	}
	if dials.Load() != 0 {
		t.Fatalf("%d dials for an unmapped pod", dials.Load())
	}
	if err := NewClient(nil, Options{}).Load(context.Background(), pod, "m"); !errors.Is(err, ErrNoMapping) {
		t.Fatalf("Load with a nil dialer: %v, want ErrNoMapping", err)
	}
}

// TestNoDialLeavesLoopback drives every call against many simulated pods,
// mapped or not, and fails on any dial of an address that is not loopback.
func TestNoDialLeavesLoopback(t *testing.T) {
	redirected := fake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1:80/v2/repository/index", http.StatusTemporaryRedirect)
	})
	target := fake(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "10.66.") {
			http.Redirect(w, r, "http://"+redirected.String()+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		_, _ = fmt.Fprint(w, `[]`)
	})
	var mu sync.Mutex
	var dialled []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, addr)
		mu.Unlock()
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("dial of %q left the loopback interface", addr)
			return nil, errors.New("refused by the test")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	m, err := ParseAddressMap("10.0.0.0/8=" + target.String() + ",fd00::/8=" + target.String())
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(&Dialer{Map: m, Dial: dial}, Options{RequestTimeout: time.Second, LoadTimeout: time.Second})
	ctx := context.Background()
	pods := make([]string, 0, 7*20)
	for i := range 20 {
		pods = append(pods, fmt.Sprintf("10.0.%d.%d:8000", i, i+1), fmt.Sprintf("10.66.0.%d:8000", i+1),
			fmt.Sprintf("[fd00::%x]:8000", i+1), fmt.Sprintf("192.0.2.%d:8000", i+1),
			fmt.Sprintf("198.51.100.%d:8000", i+1), fmt.Sprintf("[2001:db8::%x]:8000", i+1), fmt.Sprintf("11.0.0.%d:8000", i+1))
	}
	mappedOK := 0
	for _, p := range pods {
		ap := netip.MustParseAddrPort(p)
		_, errIndex := c.Index(ctx, ap)
		errLoad := c.Load(ctx, ap, "simple")
		errUnload := c.Unload(ctx, ap, "simple")
		inMap := strings.HasPrefix(p, "10.") || strings.HasPrefix(p, "[fd00:")
		for _, err := range []error{errIndex, errLoad, errUnload} {
			switch {
			case !inMap && !errors.Is(err, ErrNoMapping):
				t.Errorf("%s: %v, want ErrNoMapping", p, err)
			case strings.HasPrefix(p, "10.66.") && kindOf(err) != KindRedirect:
				t.Errorf("%s: %v, want a redirect error", p, err)
			case inMap && !strings.HasPrefix(p, "10.66.") && err == nil:
				mappedOK++
			}
		}
	}
	if mappedOK != 40*3 {
		t.Errorf("%d successful calls to mapped pods, want %d", mappedOK, 40*3)
	}
	d := &Dialer{Map: m, Direct: false, Dial: dial}
	if _, err := d.DialContext(ctx, "tcp", "example.invalid:80"); !errors.Is(err, ErrNotIPLiteral) {
		t.Errorf("dial of a name: %v, want ErrNotIPLiteral", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range dialled {
		if a != target.String() {
			t.Errorf("dialled %s, want only %s", a, target)
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := fake(t, func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = fmt.Fprint(w, `[]`)
	})
	target := fake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+other.String()+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c := clientTo(t, target, Options{})
	_, err := c.Index(context.Background(), pod)
	var re *ResponseError
	if !errors.As(err, &re) || re.Kind != KindRedirect || re.Status != http.StatusTemporaryRedirect {
		t.Fatalf("Index = %v, want a 307 redirect error", err)
	}
	if err := c.Load(context.Background(), pod, "simple"); kindOf(err) != KindRedirect {
		t.Fatalf("Load = %v, want a redirect error", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect target saw %d requests", n)
	}
}

func TestIndexOversized(t *testing.T) {
	const limit = 1 << 10
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"content-length", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = fmt.Fprint(w, "["+strings.Repeat(`{"name":"m"},`, 200)+`{"name":"m"}]`)
		}},
		{"chunked stream", func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprint(w, "[")
			for i := 0; i < 1<<16 && r.Context().Err() == nil; i++ {
				_, _ = fmt.Fprint(w, `{"name":"m"},`)
				w.(http.Flusher).Flush()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientTo(t, fake(t, tt.h), Options{MaxBodyBytes: limit})
			if _, err := c.Index(context.Background(), pod); kindOf(err) != KindOversized {
				t.Fatalf("Index = %v, want an Oversized error", err)
			}
		})
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantDetail string
		notIn      string
	}{
		{"triton error", 400, `{"error":"failed to load 'm', failed to poll from model repository"}`,
			"HTTP 400: failed to load 'm', failed to poll from model repository", ""},
		{"control characters", 400, `{"error":"line1\nline2\t\u001b[31mred"}`, "HTTP 400: line1 line2 [31mred", ""},
		{"not json", 500, "<html>secret page</html>", "HTTP 500", "secret"},
		{"huge", 503, `{"error":"` + strings.Repeat("x", 8000) + `"}`, "HTTP 503", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientTo(t, fake(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = fmt.Fprint(w, tt.body)
			}), Options{})
			err := c.Load(context.Background(), pod, "m")
			var re *ResponseError
			if !errors.As(err, &re) || re.Kind != KindStatus || re.Status != tt.status {
				t.Fatalf("Load = %v, want a status %d error", err, tt.status)
			}
			if !strings.HasPrefix(re.Detail, tt.wantDetail) || len(re.Detail) > MaxReasonBytes+20 {
				t.Fatalf("Detail = %q, want it to start with %q", re.Detail, tt.wantDetail)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\t\x1b") || len(msg) > maxErrorBytes || (tt.notIn != "" && strings.Contains(msg, tt.notIn)) {
				t.Fatalf("Error() = %q", msg)
			}
		})
	}
}

func TestInvalidModelNameRefusedBeforeDial(t *testing.T) {
	var dials atomic.Int32
	c := countingClient(&dials)
	for _, name := range []string{"", "../x", "a/b", "a b", "m?x=1", "-m", strings.Repeat("m", 129), "é"} {
		if err := c.Load(context.Background(), pod, name); err == nil || kindOf(err) != "" {
			t.Errorf("Load(%q) = %v, want an argument error", name, err)
		}
		if err := c.Unload(context.Background(), pod, name); err == nil {
			t.Errorf("Unload(%q) succeeded", name)
		}
	}
	for _, p := range []netip.AddrPort{{}, netip.MustParseAddrPort("10.0.0.1:0")} {
		if _, err := c.Index(context.Background(), p); err == nil {
			t.Errorf("Index(%v) succeeded", p)
		}
	}
	if dials.Load() != 0 {
		t.Fatalf("%d dials", dials.Load())
	}
}

func TestTimeouts(t *testing.T) {
	target := fake(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := clientTo(t, target, Options{RequestTimeout: 100 * time.Millisecond, LoadTimeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := c.Index(context.Background(), pod)
	if kindOf(err) != KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Index = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Index took %s", d)
	}
	start = time.Now()
	if err := c.Load(context.Background(), pod, "m"); kindOf(err) != KindTimeout {
		t.Fatalf("Load = %v, want a timeout", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Load took %s, want about the LoadTimeout", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Index(ctx, pod); !errors.Is(err, context.Canceled) {
		t.Fatalf("Index with a canceled context = %v", err)
	}
}

func TestNoProxyNoCredentials(t *testing.T) {
	var proxied atomic.Int32
	proxy := fake(t, func(w http.ResponseWriter, _ *http.Request) {
		proxied.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, "http://user:pass@"+proxy.String())
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	var mu sync.Mutex
	var paths []string
	target := fake(t, func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
			if r.Header.Get(h) != "" {
				t.Errorf("request carries %s", h)
			}
		}
		if r.Host != pod.String() {
			t.Errorf("Host = %q, want %q", r.Host, pod)
		}
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "x"})
		_, _ = fmt.Fprint(w, `[]`)
	})
	c := clientTo(t, target, Options{})
	ctx := context.Background()
	for range 2 {
		if _, err := c.Index(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Load(ctx, pod, "m.v-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Unload(ctx, pod, "m.v-1"); err != nil {
		t.Fatal(err)
	}
	want := "/v2/repository/index /v2/repository/index /v2/repository/models/m.v-1/load /v2/repository/models/m.v-1/unload"
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(paths, " "); got != want {
		t.Fatalf("paths = %q, want %q", got, want)
	}
	if n := proxied.Load(); n != 0 {
		t.Fatalf("the proxy saw %d requests", n)
	}
}

func TestReady(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	c := clientTo(t, fake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v2/health/ready" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}), Options{})
	if err := c.Ready(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	ready.Store(false)
	if err := c.Ready(context.Background(), pod); kindOf(err) != KindStatus {
		t.Fatalf("Ready = %v, want a status error", err)
	}
}
