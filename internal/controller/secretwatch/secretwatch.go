// Package secretwatch follows the Secrets that KalypsoApplications reference
// without caching the cluster's Secrets.
//
// An informer would keep every Secret of the cluster in memory, even as
// metadata only: on a cluster with tens of thousands of Secrets that is most
// of the operator's memory, for the few Secrets it uses. The Watcher instead
// reads one metadata-only watch stream of all Secrets (values never travel),
// drops each event that no Application references (a lookup in the
// Application index), and remembers a version only for referenced Secrets.
// Its memory grows with the Secrets in use, not with the cluster.
package secretwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	toolscache "k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Referenced reports whether some object the operator reconciles uses the
// Secret; it must answer from a cache, since it runs for every Secret event.
type Referenced func(ctx context.Context, key types.NamespacedName) bool

// restartBackoff paces attempts to re-establish the watch after the API
// server refused it or lost its position.
var restartBackoff = wait.Backoff{Duration: time.Second, Factor: 2, Steps: 6, Cap: 30 * time.Second}

// eventBuffer is how many Secret events a controller may have pending.
const eventBuffer = 64

// Watcher follows referenced Secrets. It is a manager Runnable, started
// with the controllers it feeds.
type Watcher struct {
	secrets    metadata.ResourceInterface
	reader     client.Reader
	referenced Referenced

	mu       sync.Mutex
	versions map[types.NamespacedName]string
	sinks    []chan event.GenericEvent
}

// New returns a Watcher that watches Secrets through the metadata client,
// reads a Secret's metadata with reader (uncached) on first use, and keeps
// only Secrets for which referenced is true.
func New(meta metadata.Interface, reader client.Reader, referenced Referenced) *Watcher {
	return &Watcher{
		secrets:    meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")),
		reader:     reader,
		referenced: referenced,
		versions:   map[types.NamespacedName]string{},
	}
}

// Source returns a controller source that delivers one generic event per
// change of a referenced Secret (the event's object carries its name and
// namespace only). Call it before the manager starts.
func (w *Watcher) Source(h handler.EventHandler) source.Source {
	ch := make(chan event.GenericEvent, eventBuffer)
	w.mu.Lock()
	w.sinks = append(w.sinks, ch)
	w.mu.Unlock()
	return source.Channel(ch, h)
}

// Version identifies the current version of a Secret (a digest of its UID
// and resourceVersion, never of its values), or "" when it does not exist.
// The first call for a Secret reads its metadata; later calls are answered
// from what the watch reported.
func (w *Watcher) Version(ctx context.Context, key types.NamespacedName) (string, error) {
	w.mu.Lock()
	v, ok := w.versions[key]
	w.mu.Unlock()
	if ok {
		return v, nil
	}
	secret := &metav1.PartialObjectMetadata{}
	secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := w.reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("reading Secret metadata %s: %w", key, err)
	}
	v = digest(secret)
	w.mu.Lock()
	defer w.mu.Unlock()
	// A watch event that arrived meanwhile is newer than this read.
	if current, ok := w.versions[key]; ok {
		return current, nil
	}
	w.versions[key] = v
	return v, nil
}

// Tracked is the number of Secrets whose version is remembered.
func (w *Watcher) Tracked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.versions)
}

// Start follows the Secrets until ctx ends. When the API server can no
// longer resume the watch (its history was compacted), the remembered
// Secrets are read again, so a change in the gap is still delivered.
func (w *Watcher) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("secretwatch")
	ctx = log.IntoContext(ctx, logger)
	backoff := restartBackoff
	for ctx.Err() == nil {
		rv, err := w.position(ctx)
		if err == nil {
			w.refresh(ctx)
			err = w.follow(ctx, rv)
		}
		if ctx.Err() != nil {
			break
		}
		// A watch whose history was compacted restarts at once (after the
		// shortest pause); failures back off.
		delay := restartBackoff.Duration
		if err == nil {
			backoff = restartBackoff
		} else {
			delay = backoff.Step()
			logger.Error(err, "Secret watch interrupted; restarting", "after", delay)
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.sinks {
		close(ch)
	}
	w.sinks = nil
	return nil
}

// position returns the API server's current resourceVersion for Secrets:
// a list of at most one item is a consistent read that transfers nothing
// of the cluster's Secrets.
func (w *Watcher) position(ctx context.Context) (string, error) {
	list, err := w.secrets.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return "", fmt.Errorf("reading the Secrets' resourceVersion: %w", err)
	}
	return list.ResourceVersion, nil
}

// follow delivers the events from rv on, until the watch can no longer be
// resumed (nil) or fails otherwise (the error).
func (w *Watcher) follow(ctx context.Context, rv string) error {
	lw := &toolscache.ListWatch{WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		return w.secrets.Watch(ctx, opts)
	}}
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, rv, lw)
	if err != nil {
		return err
	}
	defer rw.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-rw.ResultChan():
			if !ok {
				return nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted:
				if m, ok := ev.Object.(*metav1.PartialObjectMetadata); ok {
					w.observe(ctx, m, ev.Type == watch.Deleted)
				}
			case watch.Error:
				if status := apierrors.FromObject(ev.Object); apierrors.IsResourceExpired(status) || apierrors.IsGone(status) {
					return nil
				}
				return apierrors.FromObject(ev.Object)
			}
		}
	}
}

// observe records one Secret event and wakes the controllers when the
// Secret is referenced; other Secrets leave no trace.
func (w *Watcher) observe(ctx context.Context, m *metav1.PartialObjectMetadata, deleted bool) {
	key := types.NamespacedName{Namespace: m.Namespace, Name: m.Name}
	if !w.referenced(ctx, key) {
		w.mu.Lock()
		delete(w.versions, key)
		w.mu.Unlock()
		return
	}
	w.mu.Lock()
	if deleted {
		delete(w.versions, key)
	} else {
		w.versions[key] = digest(m)
	}
	w.mu.Unlock()
	w.notify(ctx, key)
}

// refresh re-reads every remembered Secret after the watch lost its
// position, and notifies for those that changed or disappeared.
func (w *Watcher) refresh(ctx context.Context) {
	w.mu.Lock()
	known := make(map[types.NamespacedName]string, len(w.versions))
	for k, v := range w.versions {
		known[k] = v
	}
	w.mu.Unlock()
	for key, old := range known {
		secret := &metav1.PartialObjectMetadata{}
		secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		err := w.reader.Get(ctx, key, secret)
		switch {
		case apierrors.IsNotFound(err):
			w.mu.Lock()
			delete(w.versions, key)
			w.mu.Unlock()
		case err != nil:
			log.FromContext(ctx).Error(err, "re-reading Secret metadata", "secret", key)
			continue
		case digest(secret) == old:
			continue
		default:
			w.mu.Lock()
			w.versions[key] = digest(secret)
			w.mu.Unlock()
		}
		w.notify(ctx, key)
	}
}

func (w *Watcher) notify(ctx context.Context, key types.NamespacedName) {
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	obj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	w.mu.Lock()
	sinks := w.sinks
	w.mu.Unlock()
	for _, ch := range sinks {
		select {
		case ch <- event.GenericEvent{Object: obj}:
		case <-ctx.Done():
			return
		}
	}
}

func digest(m *metav1.PartialObjectMetadata) string {
	sum := sha256.Sum256([]byte(string(m.UID) + "/" + m.ResourceVersion))
	return hex.EncodeToString(sum[:8])
}
