package testenv

import (
	"context"
	"slices"
	"sync"
)

// WarningRecorder keeps every warning header the API server sent; set it
// as a rest.Config's WarningHandlerWithContext.
type WarningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeaderWithContext records one warning.
func (w *WarningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

// Reset forgets the warnings recorded so far.
func (w *WarningRecorder) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = nil
}

// All returns the warnings recorded so far.
func (w *WarningRecorder) All() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}
