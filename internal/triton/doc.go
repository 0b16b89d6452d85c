// Package triton knows the command-line grammar of NVIDIA Triton Inference
// Server's tritonserver binary, so that the operator can reject a bad
// configuration when a resource is admitted or reconciled instead of
// discovering it later as a crash-looping pod.
//
// It provides three things:
//
//   - a table of every option tritonserver accepts, with its value type,
//     whether it may repeat, whether it is deprecated, and whether the
//     operator renders it itself (Managed) so a user may not set it;
//   - CheckParameter, which validates one user-supplied extra parameter;
//   - CheckArgs, which validates a whole rendered command line, including
//     the rules that span several options (model control mode, distinct
//     ports, a required model repository, ...).
//
// The package has no dependencies beyond the standard library and does no
// I/O, so it can be used from webhooks, controllers and tests alike.
package triton
