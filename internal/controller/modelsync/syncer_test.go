package modelsync

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/faketriton"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

func newSyncer(t *testing.T) (*Syncer, *faketriton.Server, Target) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fake := faketriton.New(func(string) faketriton.Profile {
		return faketriton.Profile{Explicit: true, Repository: []string{"a", "bad"}}
	})
	addr, err := faketriton.Start(ctx, "127.0.0.1:0", fake)
	if err != nil {
		t.Fatal(err)
	}
	target := netip.MustParseAddrPort(addr.String())
	d := &tritonapi.Dialer{Map: tritonapi.AddressMap{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Target: target}}}
	s := New(tritonapi.NewClient(d, tritonapi.Options{}), Options{})
	return s, fake, Target{Pod: "p", UID: "uid-p", Addr: netip.MustParseAddrPort("10.0.0.1:8000")}
}

// retryIn is how long until a failed load of model on the pod may be tried
// again (0 when it may be now).
func retryIn(s *Syncer, uid types.UID, model string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.failures[opKey{uid, model}]; ok {
		return max(0, f.retry.Sub(s.now()))
	}
	return 0
}

func waitWake(t *testing.T, s *Syncer) {
	t.Helper()
	select {
	case <-s.wake:
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up after the operation")
	}
}

// A reading sent before a load ended does not show it: the model counts as
// busy for that reading, so it is never loaded twice.
func TestNoSecondLoadFromAStaleReading(t *testing.T) {
	s, fake, target := newSyncer(t)
	srv := &servingv1alpha1.KalypsoTritonServer{}
	stale := s.Read(context.Background(), []Target{target})[0]
	if stale.Err != nil {
		t.Fatal(stale.Err)
	}
	if !s.Load(srv, stale, "a") {
		t.Fatal("the first load must start")
	}
	if s.Load(srv, stale, "a") {
		t.Fatal("a load in flight must not start again")
	}
	waitWake(t, s)
	if !s.Busy(stale, "a") || s.Load(srv, stale, "a") {
		t.Fatal("a reading older than the load's end must not start another load")
	}
	fresh := s.Read(context.Background(), []Target{target})[0]
	if s.Busy(fresh, "a") {
		t.Fatal("a reading after the load's end sees its result")
	}
	if n := fake.Loads("10.0.0.1:8000", "a"); n != 1 {
		t.Fatalf("loads = %d, want 1", n)
	}
}

// A failed load waits for its backoff, and says why meanwhile.
func TestFailedLoadBacksOff(t *testing.T) {
	s, fake, target := newSyncer(t)
	fake.FailLoad("bad", "failed to load 'bad': no version")
	srv := &servingv1alpha1.KalypsoTritonServer{}
	r := s.Read(context.Background(), []Target{target})[0]
	s.Load(srv, r, "bad")
	waitWake(t, s)
	later := s.Read(context.Background(), []Target{target})[0]
	if s.Load(srv, later, "bad") {
		t.Fatal("a failed load must wait for its retry")
	}
	if e := s.LoadError(target.UID, "bad"); e == "" || retryIn(s, target.UID, "bad") < 9*time.Second {
		t.Fatalf("load error %q, retry in %s", e, retryIn(s, target.UID, "bad"))
	}
	s.Forget(target.UID)
	if s.LoadError(target.UID, "bad") != "" || retryIn(s, target.UID, "bad") != 0 {
		t.Fatal("a forgotten pod keeps no state")
	}
}

func TestOff(t *testing.T) {
	s := New(nil, Options{Why: "no access"})
	if s.Enabled() || s.Off() != "no access" || s.Interval() != DefaultInterval {
		t.Fatalf("off syncer: %v %q %s", s.Enabled(), s.Off(), s.Interval())
	}
}
