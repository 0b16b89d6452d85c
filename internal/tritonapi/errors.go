package tritonapi

import "fmt"

// Kinds of ResponseError.
const (
	// KindOversized: the answer is larger than allowed; it was not read further.
	KindOversized = "Oversized"
	// KindMalformed: the answer is not what Triton sends.
	KindMalformed = "Malformed"
	// KindRedirect: the pod answered a redirect, which is never followed.
	KindRedirect = "Redirect"
	// KindStatus: the pod answered an HTTP error status.
	KindStatus = "Status"
	// KindTimeout: no complete answer in time.
	KindTimeout = "Timeout"
	// KindUnreachable: the connection was refused by the dialer or failed.
	KindUnreachable = "Unreachable"
)

// maxErrorBytes bounds ResponseError.Error, a one-line condition message.
const maxErrorBytes = 512

// ResponseError is a failed call to a Triton pod. Every text in it is
// sanitized: it never holds the raw answer.
type ResponseError struct {
	// Op is the call: "index", "load <model>", "unload <model>" or "ready".
	Op string
	// Pod is the pod's address as ip:port.
	Pod string
	// Kind is one of the Kind constants.
	Kind string
	// Status is the HTTP status, when the pod answered one.
	Status int
	// Detail says what went wrong, e.g. Triton's error text.
	Detail string
	// Err is the underlying cause (a dial or context error), if any.
	Err error
}

// Error is one short line, fit for a Kubernetes condition message.
func (e *ResponseError) Error() string {
	return Sanitize(fmt.Sprintf("triton %s on %s: %s", e.Op, e.Pod, e.Detail), maxErrorBytes)
}

// Unwrap returns the cause, so errors.Is(err, ErrNoMapping) and
// errors.Is(err, context.DeadlineExceeded) work.
func (e *ResponseError) Unwrap() error { return e.Err }
