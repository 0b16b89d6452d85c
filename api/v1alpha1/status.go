package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The three kinds share the status fields the reconcilers' finish step
// writes: conditions, the generation they describe, and the phase.

// StatusConditions returns the conditions for in-place update.
func (s *KalypsoTritonServer) StatusConditions() *[]metav1.Condition { return &s.Status.Conditions }

// SetObservedGeneration records the generation the status describes.
func (s *KalypsoTritonServer) SetObservedGeneration(g int64) { s.Status.ObservedGeneration = g }

// SetPhase sets the printer-column summary.
func (s *KalypsoTritonServer) SetPhase(p Phase) { s.Status.Phase = p }

// StatusConditions returns the conditions for in-place update.
func (a *KalypsoApplication) StatusConditions() *[]metav1.Condition { return &a.Status.Conditions }

// SetObservedGeneration records the generation the status describes.
func (a *KalypsoApplication) SetObservedGeneration(g int64) { a.Status.ObservedGeneration = g }

// SetPhase sets the printer-column summary.
func (a *KalypsoApplication) SetPhase(p Phase) { a.Status.Phase = p }

// StatusConditions returns the conditions for in-place update.
func (p *KalypsoProject) StatusConditions() *[]metav1.Condition { return &p.Status.Conditions }

// SetObservedGeneration records the generation the status describes.
func (p *KalypsoProject) SetObservedGeneration(g int64) { p.Status.ObservedGeneration = g }

// SetPhase sets the printer-column summary.
func (p *KalypsoProject) SetPhase(ph Phase) { p.Status.Phase = ph }
