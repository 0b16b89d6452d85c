package monitoring

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	operatormetrics "github.com/kalypsoserving/kalypso-serving/internal/metrics"
)

// descName reads a descriptor's metric name; prometheus.Desc has no
// accessor, but its String form is stable.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// operatorMetricNames returns the names on the manager's metrics endpoint:
// the operator's fleet gauges (from their collector's descriptors, as they
// are computed from the cluster at scrape time), its reconcile counter and
// what controller-runtime registers (reconcile, work queue, Go runtime and
// process metrics). Vector metrics only appear once they have a series, so
// one outcome is counted and a real controller is started and fed one
// request that fails, as the manager's controllers would be.
func operatorMetricNames(t testing.TB) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	descs := make(chan *prometheus.Desc, 64)
	operatormetrics.Fleet{}.Describe(descs)
	close(descs)
	for d := range descs {
		m := descName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		names[m[1]] = true
	}
	operatormetrics.ObserveReconcile(operatormetrics.KindServer, operatormetrics.OutcomeError, "")
	exerciseController(t)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		addFamily(names, mf.GetName(), mf.GetType())
	}
	return names
}

// exercised is set once the probe controller has run, as the registry is
// process-wide.
var exercised bool

func exerciseController(t testing.TB) {
	if exercised {
		return
	}
	done := make(chan struct{}, 1)
	c, err := controller.NewUnmanaged("monitoring-probe", controller.Options{
		SkipNameValidation: ptr.To(true),
		Reconciler: reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
			select {
			case done <- struct{}{}:
			default:
			}
			return reconcile.Result{}, errors.New("probe")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Watch(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "probe"}})
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = c.Start(ctx)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the probe controller never reconciled")
	}
	// The metrics of a reconcile are recorded after it returns.
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-stopped
	exercised = true
}
