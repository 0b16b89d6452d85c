// Package modelsync is the operator's only way to talk to Triton pods: it
// reads each pod's repository index and loads or unloads models, through
// one tritonapi.Client whose dialer refuses every destination it was not
// configured for. Reads are synchronous and short (the client's request
// timeout, all pods of a server in parallel); loads and unloads run in the
// background, at most one per pod and model at a time, and wake the server
// through a channel source when they end. A failed load is retried with
// exponential backoff, never in a tight loop.
package modelsync

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

// Defaults of Options.
const (
	DefaultInterval    = 30 * time.Second
	DefaultConcurrency = 16
	// firstRetry and lastRetry bound the backoff after a failed load.
	firstRetry = 10 * time.Second
	lastRetry  = 10 * time.Minute
)

// Options configure a Syncer.
type Options struct {
	// Interval between two readings of a server's pods when nothing changed.
	Interval time.Duration
	// Concurrency bounds the loads and unloads in flight, all servers together.
	Concurrency int
	// Why is shown in status when Client is nil (reading is off).
	Why string
}

// Target is one pod to ask: its UID (state is kept per pod incarnation)
// and its own IP with the server's HTTP port.
type Target struct {
	Pod  string
	UID  types.UID
	Addr netip.AddrPort
}

// Reading is one pod's index, or why there is none.
type Reading struct {
	Target
	Entries []tritonapi.Entry
	Err     error
	// At is when the request was sent: an operation that ended after it is
	// not seen in Entries.
	At time.Time
}

type opKey struct {
	uid   types.UID
	model string
}

type failure struct {
	count int
	retry time.Time
	err   string
}

// Syncer reads and changes the models of Triton pods.
type Syncer struct {
	api  *tritonapi.Client
	opts Options
	sem  chan struct{}
	wake chan event.TypedGenericEvent[*servingv1alpha1.KalypsoTritonServer]

	mu       sync.Mutex
	inflight map[opKey]bool
	failures map[opKey]failure
	// ended is when the last operation on a pod's model ended: a reading
	// sent before it is stale for that model.
	ended map[opKey]time.Time
	now   func() time.Time
}

// New returns a Syncer; api nil switches reading off (opts.Why says why).
func New(api *tritonapi.Client, opts Options) *Syncer {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	return &Syncer{
		api: api, opts: opts,
		sem:      make(chan struct{}, opts.Concurrency),
		wake:     make(chan event.TypedGenericEvent[*servingv1alpha1.KalypsoTritonServer], 1024),
		inflight: map[opKey]bool{},
		failures: map[opKey]failure{},
		ended:    map[opKey]time.Time{},
		now:      time.Now,
	}
}

// Enabled reports whether the operator may ask pods; Off says why not.
func (s *Syncer) Enabled() bool { return s != nil && s.api != nil }

// Off says why reading is off.
func (s *Syncer) Off() string {
	if s == nil || s.opts.Why == "" {
		return "the manager has no access to Triton pods (--triton-access)"
	}
	return s.opts.Why
}

// Interval between readings when nothing changed.
func (s *Syncer) Interval() time.Duration { return s.opts.Interval }

// Source wakes the server whose load or unload ended.
func (s *Syncer) Source() source.Source {
	return source.Channel(s.wake, &handler.TypedEnqueueRequestForObject[*servingv1alpha1.KalypsoTritonServer]{})
}

// Read asks every target for its index, in parallel; the result is in the
// order of targets.
func (s *Syncer) Read(ctx context.Context, targets []Target) []Reading {
	out := make([]Reading, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			at := s.now()
			entries, err := s.api.Index(ctx, t.Addr)
			out[i] = Reading{Target: t, Entries: entries, Err: err, At: at}
		})
	}
	wg.Wait()
	return out
}

// Busy reports a load or unload of model on the pod in flight, or one that
// ended after the reading was sent (the reading does not show its result).
func (s *Syncer) Busy(r Reading, model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := opKey{r.UID, model}
	return s.inflight[key] || !s.ended[key].Before(r.At)
}

// LoadError is the last failed load of model on the pod while its retry
// waits, or "".
func (s *Syncer) LoadError(uid types.UID, model string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.failures[opKey{uid, model}]
	if !ok || !s.now().Before(f.retry) {
		return ""
	}
	return f.err
}

// Load starts loading model on the pod the reading is of, unless Busy or
// a failed load waits for its retry; it reports whether it started.
func (s *Syncer) Load(srv *servingv1alpha1.KalypsoTritonServer, r Reading, model string) bool {
	return s.start(srv, r, model, true)
}

// Unload starts unloading model on the pod unless Busy.
func (s *Syncer) Unload(srv *servingv1alpha1.KalypsoTritonServer, r Reading, model string) bool {
	return s.start(srv, r, model, false)
}

func (s *Syncer) start(srv *servingv1alpha1.KalypsoTritonServer, r Reading, model string, load bool) bool {
	t := r.Target
	key := opKey{t.UID, model}
	s.mu.Lock()
	if s.inflight[key] || !s.ended[key].Before(r.At) || (load && s.now().Before(s.failures[key].retry)) {
		s.mu.Unlock()
		return false
	}
	s.inflight[key] = true
	s.mu.Unlock()

	// Only the key is kept: the event carries a bare object so that the
	// server read for this reconcile is not retained.
	wake := &servingv1alpha1.KalypsoTritonServer{}
	wake.Namespace, wake.Name = srv.Namespace, srv.Name
	go func() {
		s.sem <- struct{}{}
		var err error
		if load {
			err = s.api.Load(context.Background(), t.Addr, model)
		} else {
			err = s.api.Unload(context.Background(), t.Addr, model)
		}
		<-s.sem
		s.finish(key, load, err)
		s.wake <- event.TypedGenericEvent[*servingv1alpha1.KalypsoTritonServer]{Object: wake}
	}()
	return true
}

func (s *Syncer) finish(key opKey, load bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inflight, key)
	s.ended[key] = s.now()
	if !load {
		return
	}
	if err == nil {
		delete(s.failures, key)
		return
	}
	f := s.failures[key]
	f.count++
	wait := firstRetry << min(f.count-1, 10)
	f.retry = s.now().Add(min(wait, lastRetry))
	f.err = err.Error()
	s.failures[key] = f
}

// Forget drops what is known of a pod that is gone.
func (s *Syncer) Forget(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.failures {
		if k.uid == uid {
			delete(s.failures, k)
		}
	}
	for k := range s.ended {
		if k.uid == uid {
			delete(s.ended, k)
		}
	}
}
