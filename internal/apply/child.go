package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Child is one rendered child of a custom resource: its kind and key, and
// the object to apply, or nil when the spec does not want it (an existing
// one the owner controls is then deleted).
type Child struct {
	GVK    schema.GroupVersionKind
	Key    types.NamespacedName
	Object *unstructured.Unstructured
}

// Read says where the live state of a child kind is read from.
type Read int

const (
	// ReadTyped reads the typed object from the cache (the default).
	ReadTyped Read = iota
	// ReadMetadata reads metadata only from the cache (kinds watched
	// through a metadata informer, such as Namespaces).
	ReadMetadata
	// ReadDirect reads from the API server, uncached (optional CRDs).
	ReadDirect
)

// Kind tells the engine how to read one child kind.
type Kind struct {
	Read Read
	// Filtered means the cache holds only objects the operator labelled: a
	// cache miss is confirmed against the API server before anything is
	// created, so an object someone else made is never taken over.
	Filtered bool
	// CreateOnly creates an absent child with Create, which fails when
	// someone made an object of that name meanwhile, instead of an apply,
	// which would merge into it (namespaces). Later changes are applied.
	CreateOnly bool
}

// Owner is the custom resource whose children are reconciled.
type Owner struct {
	Object client.Object
	// Marks are labels every child of this owner carries. With the hash
	// annotation and the operator's apply entry they prove that an object
	// without a controller is this owner's own child (its owner reference
	// was stripped, or the owner retains its children without one).
	Marks map[string]string
	// UIDAnnotation, when set, names an annotation whose value equal to the
	// owner's UID also proves creation (namespaces created by a project).
	UIDAnnotation string
}

// Engine is the one path by which reconcilers apply and delete children.
type Engine struct {
	// Client reads from the cache and writes.
	Client client.Client
	// APIReader reads uncached: kinds read directly, confirmations of
	// cache misses and managed fields (the cache drops them).
	APIReader  client.Reader
	FieldOwner string
	// Kinds lists how kinds other than ReadTyped-unfiltered are read.
	Kinds map[schema.GroupVersionKind]Kind
}

// Result is what Reconcile did.
type Result struct {
	// Live is the object as read before acting (nil: absent). A typed
	// object for ReadTyped kinds.
	Live client.Object
	// Applied reports a server-side apply; Created that the child was absent.
	Applied, Created bool
	// Deleted reports a deletion of a child the spec no longer wants.
	Deleted bool
	// Readopted reports that the child had lost its owner reference and was
	// proven to be the owner's own (the apply restores the reference).
	Readopted bool
}

// ConflictError means an object with a child's name exists and is not the
// owner's: it is never changed or deleted.
type ConflictError struct {
	Kind, Name, Owner string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %q exists and is not controlled by this %s; rename or remove it", e.Kind, e.Name, e.Owner)
}

// BeforeApply runs after the ownership check and before an apply, with the
// live object (nil when absent).
type BeforeApply func(ctx context.Context, live client.Object, desired *unstructured.Unstructured) error

// Reconcile brings one child to what was rendered: it reads the live object,
// checks it is the owner's (a controller reference, or an orphan proven by
// its marks and apply entry), then deletes it (UID precondition) when the
// spec no longer wants it, or applies it when the operator's intent or a
// field the operator sets differs. A converged child costs no write.
func (e *Engine) Reconcile(ctx context.Context, owner Owner, child Child, before BeforeApply) (Result, error) {
	live, err := e.live(ctx, child, child.Object != nil)
	if err != nil {
		return Result{}, err
	}
	res := Result{Live: live, Created: live == nil}
	if live != nil && !metav1.IsControlledBy(live, owner.Object) {
		if err := e.checkOrphan(ctx, owner, child, live); err != nil {
			return res, err
		}
		// Retained children never carry a controller: they are not re-adopted.
		res.Readopted = child.Object != nil && len(child.Object.GetOwnerReferences()) > 0
	}
	if child.Object == nil {
		res.Deleted, err = e.deleteUnwanted(ctx, child, live)
		return res, err
	}
	res.Applied, err = e.write(ctx, child, live, before)
	return res, err
}

// checkOrphan returns a *ConflictError unless live, which the owner does
// not control, is proven to be the owner's own child.
func (e *Engine) checkOrphan(ctx context.Context, owner Owner, child Child, live client.Object) error {
	proven, err := e.provenOrphan(ctx, owner, child.GVK, live)
	if err != nil || proven {
		return err
	}
	ownerKind := owner.Object.GetObjectKind().GroupVersionKind().Kind
	if gvk, err := apiutil.GVKForObject(owner.Object, e.Client.Scheme()); err == nil {
		ownerKind = gvk.Kind
	}
	return &ConflictError{Kind: child.GVK.Kind, Name: child.Key.Name, Owner: ownerKind}
}

// deleteUnwanted deletes the owner's child the spec no longer wants, once
// (a child already terminating is left to finish), with a UID precondition.
func (e *Engine) deleteUnwanted(ctx context.Context, child Child, live client.Object) (bool, error) {
	if live == nil || !live.GetDeletionTimestamp().IsZero() {
		return false, nil
	}
	uid := live.GetUID()
	err := e.Client.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting %s %s: %w", child.GVK.Kind, child.Key, err)
	}
	return err == nil, nil
}

// write applies the child when the operator's intent or a field it sets
// differs from live (absent: nil), after the before hook; it reports
// whether it wrote.
func (e *Engine) write(ctx context.Context, child Child, live client.Object, before BeforeApply) (bool, error) {
	desired := child.Object
	if err := Prepare(desired); err != nil {
		return false, err
	}
	why := "absent"
	if live != nil {
		upToDate, err := UpToDate(live, desired)
		if err != nil || upToDate {
			return false, err
		}
		why = Diff(live, desired)
	}
	if before != nil {
		if err := before(ctx, live, desired); err != nil {
			return false, err
		}
	}
	log.FromContext(ctx).V(1).Info("applying", "kind", child.GVK.Kind, "name", child.Key.Name, "diff", why)
	if live == nil && e.Kinds[child.GVK].CreateOnly {
		if err := e.Client.Create(ctx, desired.DeepCopy(), client.FieldOwner(e.FieldOwner)); err != nil {
			// AlreadyExists: someone made it meanwhile; the next reconcile
			// reads it and judges its ownership.
			return false, fmt.Errorf("creating %s %s: %w", child.GVK.Kind, child.Key, err)
		}
		return true, nil
	}
	if err := Apply(ctx, e.Client, desired, Options{FieldOwner: e.FieldOwner}); err != nil {
		return false, err
	}
	return true, nil
}

// live reads the child; nil when it does not exist. confirm asks the API
// server about a miss of a label-filtered cache (only needed before a
// create: an object the operator does not want and did not label is not
// its business).
func (e *Engine) live(ctx context.Context, child Child, confirm bool) (client.Object, error) {
	kind := e.Kinds[child.GVK]
	var obj client.Object
	reader := client.Reader(e.Client)
	switch kind.Read {
	case ReadMetadata:
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(child.GVK)
		obj = m
	case ReadDirect:
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(child.GVK)
		obj, reader = u, e.APIReader
	default:
		ro, err := e.Client.Scheme().New(child.GVK)
		if err != nil {
			return nil, fmt.Errorf("child kind %s: %w", child.GVK, err)
		}
		typed, ok := ro.(client.Object)
		if !ok {
			return nil, fmt.Errorf("child kind %s is not an object", child.GVK)
		}
		obj = typed
	}
	err := reader.Get(ctx, child.Key, obj)
	switch {
	case err == nil:
		// Typed readers may drop the type meta; the comparison with what
		// was rendered needs it.
		obj.GetObjectKind().SetGroupVersionKind(child.GVK)
		return obj, nil
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("reading %s %s: %w", child.GVK.Kind, child.Key, err)
	case !kind.Filtered || !confirm:
		return nil, nil
	}
	// The cache holds only labelled objects: ask the API server whether an
	// object of someone else's holds the name.
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(child.GVK)
	if err := e.APIReader.Get(ctx, child.Key, m); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s %s: %w", child.GVK.Kind, child.Key, err)
	}
	return m, nil
}

// provenOrphan reports whether live, which the owner does not control, is
// the owner's own child: nobody else controls it, it carries the owner's
// marks and the operator's hash annotation, and either the operator's
// server-side-apply entry (read uncached, since the cache drops managed
// fields) or the owner's UID annotation. Anything else belongs to someone
// else.
func (e *Engine) provenOrphan(ctx context.Context, owner Owner, gvk schema.GroupVersionKind, live client.Object) (bool, error) {
	if metav1.GetControllerOf(live) != nil {
		return false, nil
	}
	labels := live.GetLabels()
	for k, v := range owner.Marks {
		if labels[k] != v {
			return false, nil
		}
	}
	ann := live.GetAnnotations()
	if ann[AnnotationHash] == "" {
		return false, nil
	}
	if owner.UIDAnnotation != "" {
		switch uid, set := ann[owner.UIDAnnotation]; {
		case set && uid == string(owner.Object.GetUID()):
			return true, nil
		case set:
			// Made for another owner of the same name (a deleted project
			// whose namespaces were retained): never taken over.
			return false, nil
		}
	}
	current := &metav1.PartialObjectMetadata{}
	current.SetGroupVersionKind(gvk)
	if err := e.APIReader.Get(ctx, client.ObjectKeyFromObject(live), current); err != nil {
		return false, fmt.Errorf("reading %s %s metadata: %w", gvk.Kind, live.GetName(), err)
	}
	if current.UID != live.GetUID() || metav1.GetControllerOf(current) != nil {
		return false, nil
	}
	for _, mf := range current.ManagedFields {
		if mf.Manager == e.FieldOwner && mf.Operation == metav1.ManagedFieldsOperationApply {
			return true, nil
		}
	}
	return false, nil
}
