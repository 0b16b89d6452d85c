// Package controller wires the KalypsoServing reconcilers into a
// controller-runtime manager and chooses what the shared cache holds.
// Each kind's reconciler lives in its own sub-package.
package controller
