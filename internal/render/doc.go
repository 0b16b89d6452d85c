// Package render builds every child object of a KalypsoTritonServer as a
// server-side-apply configuration. Functions here are pure: no client, no
// context, no clock. The same output feeds the reconciler, the `kalypso
// render` preview command and the golden files, so what is reviewed is
// exactly what is applied.
package render
