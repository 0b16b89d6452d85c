package reliability

import (
	"slices"
	"sync"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restoreTimer watches one kind in a namespace and times, per object, how
// long the object takes to come back after a disturbance: from just before
// the disturbing write until the first watch event that shows the object
// restored, after an event that showed it disturbed.
type restoreTimer struct {
	w       watch.Interface
	mu      sync.Mutex
	pending map[string]*expectation
	took    map[string]time.Duration
	closed  bool
}

type expectation struct {
	start       time.Time
	seenBroken  bool
	isBroken    func(watch.EventType, client.Object) bool
	isRestored  func(client.Object) bool
	description string
}

// newRestoreTimer starts watching list's kind in ns.
func newRestoreTimer(list client.ObjectList, ns string) *restoreTimer {
	w, err := k8sClient.Watch(ctx, list, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	t := &restoreTimer{w: w, pending: map[string]*expectation{}, took: map[string]time.Duration{}}
	go t.run()
	return t
}

func (t *restoreTimer) run() {
	for ev := range t.w.ResultChan() {
		obj, ok := ev.Object.(client.Object)
		if !ok || ev.Type == watch.Bookmark || ev.Type == watch.Error {
			continue
		}
		now := time.Now()
		t.mu.Lock()
		if e := t.pending[obj.GetName()]; e != nil {
			switch {
			case !e.seenBroken:
				e.seenBroken = e.isBroken(ev.Type, obj)
			case ev.Type != watch.Deleted && e.isRestored(obj):
				t.took[obj.GetName()] = now.Sub(e.start)
				delete(t.pending, obj.GetName())
			}
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// expect registers a disturbance of name that is about to be made.
func (t *restoreTimer) expect(name, description string, isBroken func(watch.EventType, client.Object) bool, isRestored func(client.Object) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending[name] = &expectation{start: time.Now(), isBroken: isBroken, isRestored: isRestored, description: description}
}

// expectRecreated registers a deletion of the object with this UID.
func (t *restoreTimer) expectRecreated(name string, uid types.UID) {
	t.expect(name, "recreation",
		func(et watch.EventType, o client.Object) bool { return et == watch.Deleted && o.GetUID() == uid },
		func(o client.Object) bool { return o.GetUID() != uid })
}

// wait waits until every registered object is restored, or the timeout
// passes. It returns the times taken, in no particular order, and what was
// not restored (which is then forgotten).
func (t *restoreTimer) wait(timeout time.Duration) ([]time.Duration, []string) {
	deadline := time.Now().Add(timeout)
	for {
		t.mu.Lock()
		closed, waiting := t.closed, len(t.pending)
		t.mu.Unlock()
		Expect(closed).To(BeFalse(), "the watch closed")
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.took))
	for _, d := range t.took {
		out = append(out, d)
	}
	missed := make([]string, 0, len(t.pending))
	for name, e := range t.pending {
		missed = append(missed, name+": "+e.description+" not seen")
	}
	slices.Sort(missed)
	t.took, t.pending = map[string]time.Duration{}, map[string]*expectation{}
	return out, missed
}

func (t *restoreTimer) stop() { t.w.Stop() }
