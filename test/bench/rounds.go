package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

var scheme = controller.Scheme()

// wMin is the fewest writes one server needs: its Deployment, its Service
// and one status write (one replica, so no PodDisruptionBudget).
const wMin = 3

const (
	appName      = "bench"
	roundTimeout = 15 * time.Minute
	quietPeriod  = 2 * time.Second
)

// newServer is the i-th server of a round: one replica (the API server's
// default), so no PodDisruptionBudget.
func newServer(ns string, i int) *servingv1alpha1.KalypsoTritonServer {
	return fixture.Server(ns, fmt.Sprintf("srv-%05d", i), fixture.WithApplication(appName),
		fixture.WithStorageURI(fmt.Sprintf("s3://models/m%05d", i)), fixture.WithDefaultReplicas())
}

// baselineResult is one baseline round.
type baselineResult struct {
	Duration     time.Duration `json:"durationNs"`
	Writes       int           `json:"writes"`
	WritesPerSec float64       `json:"writesPerSecond"`
}

// baselineRound writes, with the manager paused, exactly what the operator
// would write for N servers: the rendered children and one status write.
func baselineRound(ctx context.Context, cp *controlPlane, m *manager, s settings, n, round int) (baselineResult, error) {
	m.Pause()
	defer m.Resume()
	ns := fmt.Sprintf("b-%d-%d", n, round)
	if err := cp.Client.Create(ctx, fixture.Namespace(ns)); err != nil {
		return baselineResult{}, err
	}
	app := fixture.Application(ns, appName)
	servers := make([]*servingv1alpha1.KalypsoTritonServer, n)
	if err := fixture.Parallel(n, s.Concurrency, func(i int) error {
		srv := newServer(ns, i)
		servers[i] = srv
		return cp.Client.Create(ctx, srv)
	}); err != nil {
		return baselineResult{}, err
	}
	bodies := make([][]render.Child, n)
	for i, srv := range servers {
		children, err := render.Children(render.Input{Server: srv, Application: app})
		if err != nil {
			return baselineResult{}, err
		}
		for _, c := range children {
			if c.Object != nil {
				if err := apply.Prepare(c.Object); err != nil {
					return baselineResult{}, err
				}
				bodies[i] = append(bodies[i], c)
			}
		}
	}
	// The same observers as an operator round: the tracker's watches cost
	// the API server the same event deliveries.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := newTracker(n).watchAll(wctx, cp, ns); err != nil {
		return baselineResult{}, err
	}
	start := time.Now()
	// The same concurrency as the manager's reconciles.
	err := fixture.Parallel(n, s.Workers, func(i int) error {
		for _, c := range bodies[i] {
			if err := apply.Apply(ctx, cp.Client, c.Object, apply.Options{FieldOwner: "bench-baseline"}); err != nil {
				return err
			}
		}
		srv := servers[i]
		before := srv.DeepCopy()
		conditions.Apply(&srv.Status.Conditions, srv.Generation, conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing, Message: "baseline"})
		srv.Status.ObservedGeneration = srv.Generation
		return cp.Client.Status().Patch(ctx, srv, client.MergeFrom(before))
	})
	dur := time.Since(start)
	if err != nil {
		return baselineResult{}, fmt.Errorf("baseline writes: %w", err)
	}
	writes := n * wMin
	if err := cleanup(ctx, cp.Client, ns); err != nil {
		return baselineResult{}, err
	}
	return baselineResult{Duration: dur, Writes: writes, WritesPerSec: float64(writes) / dur.Seconds()}, nil
}

// cleanup deletes what a round created (envtest has no garbage collector).
// A collection delete of thousands of Services can outlast the API server's
// request timeout while it goes on deleting: it is repeated until it
// returns in time.
func cleanup(ctx context.Context, c client.Client, ns string) error {
	for _, obj := range []client.Object{&servingv1alpha1.KalypsoTritonServer{}, &appsv1.Deployment{}, &corev1.Service{},
		&servingv1alpha1.KalypsoApplication{}} {
		var err error
		for attempt := 0; attempt < 10; attempt++ {
			if err = c.DeleteAllOf(ctx, obj, client.InNamespace(ns)); !apierrors.IsTimeout(err) && !apierrors.IsServerTimeout(err) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("cleaning %s: %w", ns, err)
		}
	}
	return nil
}

// operatorResult is one operator round.
type operatorResult struct {
	Completion      time.Duration `json:"completionNs"`
	LatenciesMs     []float64     `json:"latenciesMs"`
	Writes          float64       `json:"writes"`
	WritesPerServer float64       `json:"writesPerServer"`
	Conflicts       float64       `json:"conflicts"`
}

// tracker records when each server became complete.
type tracker struct {
	mu         sync.Mutex
	created    map[string]time.Time
	deployment map[string]time.Time
	service    map[string]time.Time
	status     map[string]time.Time
	done       map[string]time.Time
	allDone    chan struct{}
	n          int
}

func newTracker(n int) *tracker {
	return &tracker{created: map[string]time.Time{}, deployment: map[string]time.Time{}, service: map[string]time.Time{},
		status: map[string]time.Time{}, done: map[string]time.Time{}, allDone: make(chan struct{}), n: n}
}

func (t *tracker) mark(set map[string]time.Time, name string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := set[name]; !ok {
		set[name] = at
	}
	t.check(name)
}

func (t *tracker) check(name string) {
	if _, ok := t.done[name]; ok {
		return
	}
	c, ok1 := t.created[name]
	d, ok2 := t.deployment[name]
	s, ok3 := t.service[name]
	st, ok4 := t.status[name]
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	end := c
	for _, x := range []time.Time{d, s, st} {
		if x.After(end) {
			end = x
		}
	}
	t.done[name] = end
	if len(t.done) == t.n {
		close(t.allDone)
	}
}

func (t *tracker) watch(ctx context.Context, c client.WithWatch, list client.ObjectList, ns string, onEvent func(watch.Event)) error {
	w, err := c.Watch(ctx, list, client.InNamespace(ns))
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				onEvent(ev)
			}
		}
	}()
	return nil
}

// watchAll follows Deployments, Services and servers in ns, marking when
// each server's children appear and its status reports its generation.
func (t *tracker) watchAll(ctx context.Context, cp *controlPlane, ns string) error {
	wc, err := client.NewWithWatch(cp.Admin, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	child := func(set map[string]time.Time) func(watch.Event) {
		return func(ev watch.Event) {
			if o, ok := ev.Object.(client.Object); ok && ev.Type != watch.Deleted {
				t.mark(set, o.GetName(), time.Now())
			}
		}
	}
	if err := t.watch(ctx, wc, &appsv1.DeploymentList{}, ns, child(t.deployment)); err != nil {
		return err
	}
	if err := t.watch(ctx, wc, &corev1.ServiceList{}, ns, child(t.service)); err != nil {
		return err
	}
	return t.watch(ctx, wc, &servingv1alpha1.KalypsoTritonServerList{}, ns, func(ev watch.Event) {
		srv, ok := ev.Object.(*servingv1alpha1.KalypsoTritonServer)
		if ok && ev.Type != watch.Deleted && srv.Status.ObservedGeneration == srv.Generation &&
			meta.FindStatusCondition(srv.Status.Conditions, servingv1alpha1.ConditionReady) != nil {
			t.mark(t.status, srv.Name, time.Now())
		}
	})
}

// operatorRound creates N servers in ns and times each until its children
// exist and its status reports the current generation.
//
// Live (preCreate false), the clock of each server starts when its create
// returns, while the manager runs: that is the latency a user sees, and the
// burst completion runs from the first create to the last server done.
//
// With preCreate, the servers are created while the manager is paused, as
// the baseline creates them before its clock starts, and the clock starts
// when the manager resumes: the completion is then the time the operator
// needs for exactly the writes the baseline makes, comparable with T_ideal.
func operatorRound(ctx context.Context, cp *controlPlane, m *manager, s settings, n int, ns string, preCreate bool) (operatorResult, error) {
	if err := cp.Client.Create(ctx, fixture.Namespace(ns)); err != nil {
		return operatorResult{}, err
	}
	if err := cp.Client.Create(ctx, fixture.Application(ns, appName)); err != nil {
		return operatorResult{}, err
	}
	if err := fixture.WaitFor(ctx, time.Minute, func() bool {
		var app servingv1alpha1.KalypsoApplication
		return cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: appName}, &app) == nil && fixture.ApplicationReady(&app)
	}); err != nil {
		return operatorResult{}, fmt.Errorf("application not ready: %w", err)
	}
	if err := waitQuiet(ctx, m); err != nil {
		return operatorResult{}, err
	}
	before, err := m.Metrics()
	if err != nil {
		return operatorResult{}, err
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := newTracker(n)
	if err := t.watchAll(wctx, cp, ns); err != nil {
		return operatorResult{}, err
	}

	start, err := createServers(ctx, cp, m, s, t, n, ns, preCreate)
	if err != nil {
		return operatorResult{}, err
	}
	select {
	case <-t.allDone:
	case <-time.After(roundTimeout):
		return operatorResult{}, fmt.Errorf("only %d of %d servers completed within %s", len(t.done), n, roundTimeout)
	case <-ctx.Done():
		return operatorResult{}, ctx.Err()
	}
	res := operatorResult{}
	t.mu.Lock()
	var last time.Time
	for name, end := range t.done {
		res.LatenciesMs = append(res.LatenciesMs, float64(end.Sub(t.created[name]).Microseconds())/1000)
		if end.After(last) {
			last = end
		}
	}
	t.mu.Unlock()
	sort.Float64s(res.LatenciesMs)
	res.Completion = last.Sub(start)

	if err := waitQuiet(ctx, m); err != nil {
		return operatorResult{}, err
	}
	after, err := m.Metrics()
	if err != nil {
		return operatorResult{}, err
	}
	res.Writes = after.Writes - before.Writes
	res.WritesPerServer = res.Writes / float64(n)
	res.Conflicts = after.Conflicts - before.Conflicts
	return res, nil
}

// createServers creates the round's servers and returns when the clock
// starts: at the first create, or, with preCreate, when the manager, paused
// during the creates, resumes.
func createServers(ctx context.Context, cp *controlPlane, m *manager, s settings, t *tracker, n int, ns string, preCreate bool) (time.Time, error) {
	if preCreate {
		m.Pause()
	}
	start := time.Now()
	err := fixture.Parallel(n, s.Concurrency, func(i int) error {
		srv := newServer(ns, i)
		if err := cp.Client.Create(ctx, srv); err != nil {
			return err
		}
		if !preCreate {
			t.mark(t.created, srv.Name, time.Now())
		}
		return nil
	})
	if !preCreate {
		return start, err
	}
	start = time.Now()
	m.Resume()
	if err != nil {
		return start, fmt.Errorf("creating servers: %w", err)
	}
	for i := range n {
		t.mark(t.created, newServer(ns, i).Name, start)
	}
	return start, nil
}

// waitQuiet waits until the manager's write and reconcile counters stop
// moving for quietPeriod.
func waitQuiet(ctx context.Context, m *manager) error {
	return waitSteady(ctx, m, quietPeriod, func(prev, cur counters) bool {
		return cur.Writes == prev.Writes && totalReconciles(cur) == totalReconciles(prev)
	})
}

// waitSteady polls the manager's counters every period until steady(prev,
// cur) holds between two polls.
func waitSteady(ctx context.Context, m *manager, period time.Duration, steady func(prev, cur counters) bool) error {
	prev, err := m.Metrics()
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(period):
		}
		cur, err := m.Metrics()
		if err != nil {
			return err
		}
		if steady(prev, cur) {
			return nil
		}
		prev = cur
	}
}

func totalReconciles(c counters) float64 {
	var sum float64
	for _, v := range c.Reconciles {
		sum += v
	}
	return sum
}
