// Package faketriton is an HTTP fake of Triton's health and model repository
// API for tests, simulated clusters and benchmarks.
//
// One Server stands for every pod: the operator's dialer maps all simulated
// pod addresses to it, and it tells pods apart by the request's Host header
// (the pod ip:port the operator asked for). A Profile function says what
// each pod is: its model control mode and the models in its repository.
// It is called on every request, without the Server's lock held (so it may
// call the scripting methods), and must be cheap.
//
// Pods behave as Triton does:
//   - The first request of a pod ("first contact", again after Forget) starts
//     it: in mode none/poll every repository model is loaded, in mode
//     explicit only Profile.Startup ("*": all), with model scripting applied.
//   - POST /v2/repository/index lists the repository and every loaded model:
//     {"name"} for a model never loaded, else version "1" with its state and
//     reason; {"ready":true} lists ready models only.
//   - POST /v2/repository/models/<m>/load loads (a READY model: reloads; a
//     failed reload keeps the model READY) and answers when done. A model
//     not in the repository fails with "failed to poll from model
//     repository". In mode none/poll load and unload answer 503, as Triton.
//   - POST /v2/repository/models/<m>/unload leaves UNAVAILABLE "unloaded".
//   - GET /v2/health/ready and /v2/health/live answer 200.
//
// Scripting, settable at any time from any goroutine:
//   - per model (all pods): FailLoad, StuckUnavailable, SlowLoad, Clear;
//   - per pod: Forget, Oversized, Malformed, Redirect.
//
// Counters for tests: Loads, Unloads, Requests, IndexRequests, Hosts.
// Start serves a Server on a loopback address only.
package faketriton

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Profile is what a pod is.
type Profile struct {
	// Unknown: no such pod (yet). Every request answers 503 and the pod
	// keeps no state, so its first contact comes later.
	Unknown bool
	// Explicit is --model-control-mode=explicit: only Startup is loaded at
	// first contact. Otherwise every repository model is.
	Explicit bool
	// Repository holds the names of the models in the pod's repository.
	Repository []string
	// Startup are the models loaded at first contact in mode explicit
	// (Triton's --load-model); "*" loads the whole repository.
	Startup []string
}

// model is one model's state on one pod.
type model struct {
	state, reason string
	// While state is LOADING: when the load ends, and how.
	until                   time.Time
	finalState, finalReason string
}

// settle ends a load whose time has come.
func (m *model) settle(now time.Time) {
	if m.state == stateLoading && !now.Before(m.until) {
		m.state, m.reason = m.finalState, m.finalReason
	}
}

type podState struct {
	models map[string]*model
}

type modelScript struct {
	failLoad, stuck string
	slow            time.Duration
}

type podScript struct {
	oversized, malformed bool
	redirect             string
}

type podModel struct{ pod, model string }

// Server is the fake; it implements http.Handler.
type Server struct {
	profile func(pod string) Profile

	mu         sync.Mutex
	pods       map[string]*podState
	models     map[string]modelScript
	podScripts map[string]podScript
	loads      map[podModel]int
	unloads    map[podModel]int
	hosts      map[string]struct{}

	requests      atomic.Int64
	indexRequests atomic.Int64
}

// New returns a fake whose pods are described by profile, called with the
// request's Host header. A nil profile makes every pod an empty pod in mode
// none.
func New(profile func(pod string) Profile) *Server {
	if profile == nil {
		profile = func(string) Profile { return Profile{} }
	}
	return &Server{
		profile:    profile,
		pods:       map[string]*podState{},
		models:     map[string]modelScript{},
		podScripts: map[string]podScript{},
		loads:      map[podModel]int{},
		unloads:    map[podModel]int{},
		hosts:      map[string]struct{}{},
	}
}

func (s *Server) editModel(name string, edit func(*modelScript)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.models[name]
	edit(&sc)
	s.models[name] = sc
}

// FailLoad makes every load of model fail: the load answers 400
// {"error": reason} and the index shows UNAVAILABLE with reason (unless the
// model was READY: a failed reload keeps it serving).
func (s *Server) FailLoad(model, reason string) {
	s.editModel(model, func(m *modelScript) { m.failLoad = reason })
}

// StuckUnavailable makes model UNAVAILABLE with reason when a pod loads it
// at first contact (a model failing at startup). A later load call
// proceeds as scripted otherwise.
func (s *Server) StuckUnavailable(model, reason string) {
	s.editModel(model, func(m *modelScript) { m.stuck = reason })
}

// SlowLoad makes loading model take d: the index shows LOADING meanwhile
// and a load call answers when done.
func (s *Server) SlowLoad(model string, d time.Duration) {
	s.editModel(model, func(m *modelScript) { m.slow = d })
}

// Clear removes the scripting of model.
func (s *Server) Clear(model string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.models, model)
}

// Forget simulates a container restart of pod: its models are forgotten and
// its next request is a first contact again.
func (s *Server) Forget(pod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pods, pod)
}

func (s *Server) editPod(pod string, edit func(*podScript)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.podScripts[pod]
	edit(&sc)
	if sc == (podScript{}) {
		delete(s.podScripts, pod)
	} else {
		s.podScripts[pod] = sc
	}
}

// Oversized makes pod's index answer a body of several MiB.
func (s *Server) Oversized(pod string, on bool) {
	s.editPod(pod, func(p *podScript) { p.oversized = on })
}

// Malformed makes pod's index answer invalid JSON.
func (s *Server) Malformed(pod string, on bool) {
	s.editPod(pod, func(p *podScript) { p.malformed = on })
}

// Redirect makes pod answer every repository request with a 307 to url
// ("" stops it).
func (s *Server) Redirect(pod, url string) { s.editPod(pod, func(p *podScript) { p.redirect = url }) }

// Loads counts the load requests pod received for model.
func (s *Server) Loads(pod, model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads[podModel{pod, model}]
}

// Unloads counts the unload requests pod received for model.
func (s *Server) Unloads(pod, model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unloads[podModel{pod, model}]
}

// Requests counts every request received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// IndexRequests counts the repository index requests received.
func (s *Server) IndexRequests() int64 { return s.indexRequests.Load() }

// Hosts returns the distinct Host headers seen, sorted.
func (s *Server) Hosts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.hosts))
	for h := range s.hosts {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// contact returns pod's state, starting the pod on its first contact.
// s.mu must be held.
func (s *Server) contact(pod string, prof Profile, now time.Time) *podState {
	if p, ok := s.pods[pod]; ok {
		return p
	}
	p := &podState{models: map[string]*model{}}
	s.pods[pod] = p
	start := prof.Repository
	if prof.Explicit {
		start = nil
		for _, m := range prof.Startup {
			if m == "*" {
				start = prof.Repository
				break
			}
			if slices.Contains(prof.Repository, m) {
				start = append(start, m)
			}
		}
	}
	for _, name := range start {
		sc := s.models[name]
		if sc.stuck != "" {
			p.models[name] = &model{state: stateUnavailable, reason: sc.stuck}
			continue
		}
		p.models[name] = s.startLoad(nil, sc, now)
	}
	return p
}

// startLoad returns the state of a model being (re)loaded now; prev is its
// state before, if any.
func (s *Server) startLoad(prev *model, sc modelScript, now time.Time) *model {
	final, reason := stateReady, ""
	if sc.failLoad != "" {
		final, reason = stateUnavailable, sc.failLoad
	}
	if prev != nil && prev.state == stateReady {
		// A reload: the loaded model serves until the new one is ready,
		// and keeps serving if it fails.
		return prev
	}
	if sc.slow > 0 {
		return &model{state: stateLoading, until: now.Add(sc.slow), finalState: final, finalReason: reason}
	}
	return &model{state: final, reason: reason}
}

// Start serves h (a Server, possibly wrapped) on addr, a loopback IP:port
// (port 0 picks one), until ctx ends, and returns the address it listens on.
func Start(ctx context.Context, addr string, h http.Handler) (net.Addr, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: want IP:PORT: %w", addr, err)
	}
	if !ap.Addr().Unmap().IsLoopback() || ap.Addr().Zone() != "" {
		return nil, fmt.Errorf("listen address %q: the fake listens on a loopback address only", addr)
	}
	l, err := net.Listen("tcp", ap.String())
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = l.Close()
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return l.Addr(), nil
}
