package faketriton

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

// Simulated pods.
const (
	explicitPod = "10.0.0.1:8000"
	nonePod     = "10.0.0.2:8000"
	unknownPod  = "10.0.0.3:8000"
	startupPod  = "10.0.0.4:8000"
	allPod      = "10.0.0.5:8000"
)

var repo = []string{"a", "b", "c"}

func profiles(pod string) Profile {
	switch pod {
	case explicitPod:
		return Profile{Explicit: true, Repository: repo}
	case nonePod:
		return Profile{Repository: repo}
	case startupPod:
		return Profile{Explicit: true, Repository: repo, Startup: []string{"a", "not-in-repo"}}
	case allPod:
		return Profile{Explicit: true, Repository: repo, Startup: []string{"*"}}
	}
	return Profile{Unknown: true}
}

// start serves a fake and returns a real client whose dialer maps
// 10.0.0.0/8 to it.
func start(t *testing.T) (*Server, *tritonapi.Client) {
	t.Helper()
	s := New(profiles)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr, err := Start(ctx, "127.0.0.1:0", s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tritonapi.ParseAddressMap("10.0.0.0/8=" + addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c := tritonapi.NewClient(&tritonapi.Dialer{Map: m}, tritonapi.Options{RequestTimeout: 2 * time.Second, LoadTimeout: 5 * time.Second})
	t.Cleanup(c.CloseIdleConnections)
	return s, c
}

func ap(pod string) netip.AddrPort { return netip.MustParseAddrPort(pod) }

// index returns the pod's index as "name:state:reason" terms.
func index(t *testing.T, c *tritonapi.Client, pod string) string {
	t.Helper()
	entries, err := c.Index(context.Background(), ap(pod))
	if err != nil {
		t.Fatalf("Index(%s): %v", pod, err)
	}
	terms := make([]string, 0, len(entries))
	for _, e := range entries {
		term := e.Name
		if e.State != "" {
			term += ":" + e.State
			if e.Version != "1" {
				t.Errorf("%s version %q", e.Name, e.Version)
			}
		}
		if e.Reason != "" {
			term += ":" + e.Reason
		}
		terms = append(terms, term)
	}
	return strings.Join(terms, " ")
}

func statusOf(err error) (int, string) {
	var re *tritonapi.ResponseError
	if !errors.As(err, &re) {
		return 0, ""
	}
	return re.Status, re.Detail
}

func TestFirstContact(t *testing.T) {
	s, c := start(t)
	s.StuckUnavailable("b", "failed to load 'b': bad config")
	tests := []struct {
		pod  string
		want string
	}{
		{nonePod, "a:READY b:UNAVAILABLE:failed to load 'b': bad config c:READY"},
		{explicitPod, "a b c"},
		{startupPod, "a:READY b c"},
		{allPod, "a:READY b:UNAVAILABLE:failed to load 'b': bad config c:READY"},
	}
	for _, tt := range tests {
		if got := index(t, c, tt.pod); got != tt.want {
			t.Errorf("index of %s = %q, want %q", tt.pod, got, tt.want)
		}
	}
	_, err := c.Index(context.Background(), ap(unknownPod))
	if code, _ := statusOf(err); code != http.StatusServiceUnavailable {
		t.Errorf("index of an unknown pod: %v, want 503", err)
	}
}

func TestLoadUnload(t *testing.T) {
	s, c := start(t)
	ctx := context.Background()
	for range 2 { // a load, then a reload
		if err := c.Load(ctx, ap(explicitPod), "a"); err != nil {
			t.Fatal(err)
		}
		if got := index(t, c, explicitPod); got != "a:READY b c" {
			t.Fatalf("index = %q", got)
		}
	}
	if err := c.Unload(ctx, ap(explicitPod), "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Unload(ctx, ap(explicitPod), "b"); err != nil { // never loaded
		t.Fatal(err)
	}
	if got := index(t, c, explicitPod); got != "a:UNAVAILABLE:unloaded b c" {
		t.Fatalf("index after unload = %q", got)
	}
	if s.Loads(explicitPod, "a") != 2 || s.Unloads(explicitPod, "a") != 1 || s.Loads(nonePod, "a") != 0 {
		t.Fatalf("loads %d, unloads %d", s.Loads(explicitPod, "a"), s.Unloads(explicitPod, "a"))
	}
	err := c.Load(ctx, ap(explicitPod), "missing")
	if code, detail := statusOf(err); code != 400 || !strings.Contains(detail, "failed to load 'missing', failed to poll from model repository") {
		t.Fatalf("load of a model not in the repository: %v", err)
	}
	for _, call := range []func(context.Context, netip.AddrPort, string) error{c.Load, c.Unload} {
		err := call(ctx, ap(nonePod), "a")
		if code, detail := statusOf(err); code != 503 || !strings.Contains(detail, notExplicit) {
			t.Fatalf("load/unload in mode none: %v", err)
		}
	}
}

func TestFailLoad(t *testing.T) {
	s, c := start(t)
	ctx := context.Background()
	const reason = "failed to load 'b', Invalid argument: model expects 4 dims"
	s.FailLoad("b", reason)
	if code, detail := statusOf(c.Load(ctx, ap(explicitPod), "b")); code != 400 || detail != "HTTP 400: "+reason {
		t.Fatalf("failed load answered %d %q", code, detail)
	}
	if got := index(t, c, explicitPod); got != "a b:UNAVAILABLE:"+reason+" c" {
		t.Fatalf("index = %q", got)
	}
	s.Clear("b")
	if err := c.Load(ctx, ap(explicitPod), "b"); err != nil {
		t.Fatal(err)
	}
	// A failed reload keeps the loaded model serving.
	s.FailLoad("b", reason)
	if err := c.Load(ctx, ap(explicitPod), "b"); err == nil {
		t.Fatal("reload succeeded")
	}
	if got := index(t, c, explicitPod); got != "a b:READY c" {
		t.Fatalf("index after a failed reload = %q", got)
	}
	if got := index(t, c, nonePod); got != "a:READY b:UNAVAILABLE:"+reason+" c:READY" {
		t.Fatalf("index of a pod loading everything at start = %q", got)
	}
}

func TestSlowLoad(t *testing.T) {
	s, c := start(t)
	const d = 300 * time.Millisecond
	s.SlowLoad("c", d)
	begin := time.Now()
	done := make(chan error, 1)
	go func() { done <- c.Load(context.Background(), ap(explicitPod), "c") }()
	for s.Loads(explicitPod, "c") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if got := index(t, c, explicitPod); got != "a b c:LOADING" {
		t.Fatalf("index during a slow load = %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took < d {
		t.Fatalf("slow load answered after %s, want at least %s", took, d)
	}
	if got := index(t, c, explicitPod); got != "a b c:READY" {
		t.Fatalf("index after a slow load = %q", got)
	}
	if got := index(t, c, nonePod); got != "a:READY b:READY c:LOADING" {
		t.Fatalf("index of a starting pod = %q", got)
	}
	time.Sleep(d)
	if got := index(t, c, nonePod); got != "a:READY b:READY c:READY" {
		t.Fatalf("index of a started pod = %q", got)
	}
}

func TestForget(t *testing.T) {
	s, c := start(t)
	if err := c.Load(context.Background(), ap(startupPod), "b"); err != nil {
		t.Fatal(err)
	}
	if got := index(t, c, startupPod); got != "a:READY b:READY c" {
		t.Fatalf("index = %q", got)
	}
	s.Forget(startupPod)
	if got := index(t, c, startupPod); got != "a:READY b c" {
		t.Fatalf("index after a restart = %q", got)
	}
}

func TestPodScripting(t *testing.T) {
	s, c := start(t)
	ctx := context.Background()
	kind := func(err error) string {
		var re *tritonapi.ResponseError
		if errors.As(err, &re) {
			return re.Kind
		}
		return fmt.Sprint(err)
	}
	s.Oversized(nonePod, true)
	if _, err := c.Index(ctx, ap(nonePod)); kind(err) != tritonapi.KindOversized {
		t.Fatalf("oversized index: %v", err)
	}
	s.Oversized(nonePod, false)
	s.Malformed(nonePod, true)
	if _, err := c.Index(ctx, ap(nonePod)); kind(err) != tritonapi.KindMalformed {
		t.Fatalf("malformed index: %v", err)
	}
	s.Malformed(nonePod, false)
	s.Redirect(explicitPod, "http://127.0.0.1:1/v2/repository/index")
	if _, err := c.Index(ctx, ap(explicitPod)); kind(err) != tritonapi.KindRedirect {
		t.Fatalf("redirected index: %v", err)
	}
	if err := c.Load(ctx, ap(explicitPod), "a"); kind(err) != tritonapi.KindRedirect {
		t.Fatalf("redirected load: %v", err)
	}
	if err := c.Ready(ctx, ap(explicitPod)); err != nil {
		t.Fatalf("health is not redirected: %v", err)
	}
	s.Redirect(explicitPod, "")
	if got := index(t, c, nonePod) + " / " + index(t, c, explicitPod); got != "a:READY b:READY c:READY / a b c" {
		t.Fatalf("indexes after scripting ends = %q", got)
	}
}

func TestCounters(t *testing.T) {
	s, c := start(t)
	ctx := context.Background()
	index(t, c, nonePod)
	index(t, c, explicitPod)
	_ = c.Load(ctx, ap(explicitPod), "a")
	_ = c.Ready(ctx, ap(unknownPod))
	if s.Requests() != 4 || s.IndexRequests() != 2 {
		t.Fatalf("requests %d, index requests %d", s.Requests(), s.IndexRequests())
	}
	if got := strings.Join(s.Hosts(), " "); got != explicitPod+" "+nonePod+" "+unknownPod {
		t.Fatalf("hosts = %q", got)
	}
}

func TestReadyOnlyIndex(t *testing.T) {
	s := New(profiles)
	for _, tt := range []struct{ body, want string }{
		{`{"ready":true}`, `[{"name":"a","version":"1","state":"READY"},{"name":"b","version":"1","state":"READY"},{"name":"c","version":"1","state":"READY"}]`},
		{`{"ready":false}`, `[{"name":"a","version":"1","state":"READY"}`},
		{`not json`, `{"error":"failed to parse the request JSON buffer"}`},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v2/repository/index", strings.NewReader(tt.body))
		req.Host = allPod
		s.ServeHTTP(rec, req)
		if got := rec.Body.String(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("index %s = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s, c := start(t)
	s.SlowLoad("c", 20*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			pod := ap(fmt.Sprintf("10.0.1.%d:8000", i))
			for j := range 10 {
				_, _ = c.Index(context.Background(), ap(explicitPod))
				_ = c.Load(context.Background(), ap(explicitPod), repo[j%3])
				_ = c.Unload(context.Background(), ap(explicitPod), repo[(j+1)%3])
				_, _ = c.Index(context.Background(), pod)
				s.Forget(pod.String())
			}
		})
	}
	wg.Wait()
	if n := s.Loads(explicitPod, "a") + s.Loads(explicitPod, "b") + s.Loads(explicitPod, "c"); n != 80 {
		t.Fatalf("%d loads, want 80", n)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:19000", "localhost:0", ":19000", "[fe80::1%lo]:0"} {
		if _, err := Start(context.Background(), addr, New(nil)); err == nil {
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}
