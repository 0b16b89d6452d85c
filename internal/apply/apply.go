// Package apply is the one server-side-apply helper of the operator. It
// decides whether a child already matches what was rendered, so that a
// converged object costs no API write, and applies it under the operator's
// field manager when it does not.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// AnnotationHash holds a digest of the configuration last applied by the
// operator. It changes only when the operator's intent changes, which is how
// fields the operator stopped setting are noticed and released.
const AnnotationHash = "kalypso-serving.io/applied-hash"

// ToUnstructured converts an apply configuration (or any API object) into an
// unstructured object, dropping nothing: apply configurations only carry the
// fields that were set.
func ToUnstructured(obj any) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	return u, roundTrip(obj, &u.Object)
}

// Convert turns a typed Kubernetes value into another type with the same
// JSON field names, such as its apply configuration: the user-supplied parts
// of a spec (affinity, tolerations, LimitRange items) pass through exactly.
func Convert[T any](v any) (*T, error) {
	out := new(T)
	return out, roundTrip(v, out)
}

// roundTrip is the operator's one JSON conversion: numbers and quantities
// come out as they do from the API server's JSON, so comparisons with live
// objects (normalized the same way) are exact.
func roundTrip(in, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("marshalling %T: %w", in, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("unmarshalling %T into %T: %w", in, out, err)
	}
	return nil
}

// Prepare stamps the desired object with the hash of its content.
func Prepare(desired *unstructured.Unstructured) error {
	data, err := json.Marshal(desired.Object)
	if err != nil {
		return fmt.Errorf("hashing %s: %w", desired.GetName(), err)
	}
	sum := sha256.Sum256(data)
	ann := desired.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationHash] = hex.EncodeToString(sum[:12])
	desired.SetAnnotations(ann)
	return nil
}

// UpToDate reports whether live already holds everything in desired (as
// stamped by Prepare): the same hash, and every field the operator sets
// present with the same value. Fields that others added are ignored.
func UpToDate(live runtime.Object, desired *unstructured.Unstructured) (bool, error) {
	liveMap, err := normalized(live)
	if err != nil {
		return false, err
	}
	_, differs := firstDiff(liveMap, desired.Object)
	return !differs, nil
}

// Diff names the first field of desired that live lacks or holds with
// another value, or "" when live is up to date. It explains, in logs, why
// an apply was needed.
func Diff(live runtime.Object, desired *unstructured.Unstructured) string {
	liveMap, err := normalized(live)
	if err != nil {
		return err.Error()
	}
	path, _ := firstDiff(liveMap, desired.Object)
	return path
}

// normalized returns obj as JSON-decoded maps, so numbers and quantities
// compare the same way on both sides.
func normalized(obj any) (map[string]any, error) {
	out := map[string]any{}
	return out, roundTrip(obj, &out)
}

// firstDiff reports whether want is not a subset of have, and where. Maps
// are compared key by key; lists of objects element by element with equal
// length (order is part of a container's, port's or argument's meaning);
// scalars and lists of scalars exactly. The path is only built on a
// mismatch, so the common converged case allocates nothing for it.
func firstDiff(have, want any) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return "", true
		}
		for k, wv := range w {
			hv, present := h[k]
			if !present {
				return "." + k + " (missing)", true
			}
			if path, differs := firstDiff(hv, wv); differs {
				return "." + k + path, true
			}
		}
		return "", false
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return "", true
		}
		for i := range w {
			if path, differs := firstDiff(h[i], w[i]); differs {
				return fmt.Sprintf("[%d]%s", i, path), true
			}
		}
		return "", false
	default:
		if fmt.Sprint(have) != fmt.Sprint(want) {
			return fmt.Sprintf(" (have %v, want %v)", have, want), true
		}
		return "", false
	}
}

// Options for Apply.
type Options struct {
	// FieldOwner is the field manager.
	FieldOwner string
	// DryRun asks the API server to validate without persisting.
	DryRun bool
}

// Apply server-side-applies desired under the field owner, taking over
// fields another manager set on this object (the operator is the
// authority for what it renders).
func Apply(ctx context.Context, c client.Client, desired *unstructured.Unstructured, opts Options) error {
	applyOpts := []client.ApplyOption{client.FieldOwner(opts.FieldOwner), client.ForceOwnership}
	if opts.DryRun {
		applyOpts = append(applyOpts, client.DryRunAll)
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), applyOpts...); err != nil {
		return fmt.Errorf("applying %s %s/%s: %w", desired.GetKind(), desired.GetNamespace(), desired.GetName(), err)
	}
	return nil
}
