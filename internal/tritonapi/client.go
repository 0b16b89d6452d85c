// Package tritonapi talks to the HTTP API of Triton pods: it reads a pod's
// model repository index and loads or unloads models.
//
// Every connection goes through a Dialer, which maps simulated pod addresses
// to fakes on the loopback interface and dials real pod IPs only when told
// to. A Triton pod runs a tenant's image, so everything it answers is
// untrusted: sizes are bounded, redirects are not followed, the index is
// validated and every text is sanitized before it reaches a caller.
package tritonapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// Defaults of Options.
const (
	DefaultRequestTimeout = 3 * time.Second
	DefaultLoadTimeout    = 10 * time.Minute
	DefaultMaxBodyBytes   = 256 << 10
)

const (
	// errorBodyBytes bounds the body read from an error answer.
	errorBodyBytes = 4 << 10
	// maxHeaderBytes bounds the headers of an answer.
	maxHeaderBytes = 16 << 10
	userAgent      = "kalypso-serving"
)

// Options tunes a Client; zero fields take the defaults.
type Options struct {
	// RequestTimeout bounds an index or health call (default 3s).
	RequestTimeout time.Duration
	// LoadTimeout bounds a load or unload call, which Triton answers when
	// done (default 10m).
	LoadTimeout time.Duration
	// MaxBodyBytes bounds an index answer (default 256 KiB).
	MaxBodyBytes int64
}

func (o Options) withDefaults() Options {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return o
}

// Client calls Triton pods' HTTP API through a Dialer. It is safe for
// concurrent use.
type Client struct {
	hc        *http.Client
	transport *http.Transport
	opts      Options
}

// NewClient returns a client dialling through d (nil refuses every pod).
// It never uses a proxy, TLS, cookies or credentials.
func NewClient(d *Dialer, o Options) *Client {
	if d == nil {
		d = &Dialer{}
	}
	o = o.withDefaults()
	tr := &http.Transport{
		Proxy:       nil,
		DialContext: d.DialContext,
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("TLS is not used to reach Triton pods")
		},
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
		// Contexts bound each call; this only backs them up, so it must
		// let the slowest call (a load) through.
		ResponseHeaderTimeout:  max(o.RequestTimeout, o.LoadTimeout),
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableCompression:     true,
	}
	return &Client{
		hc: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		transport: tr,
		opts:      o,
	}
}

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Index returns the repository index of the pod (its IP and HTTP port).
func (c *Client) Index(ctx context.Context, pod netip.AddrPort) ([]Entry, error) {
	if err := checkPod(pod); err != nil {
		return nil, err
	}
	const op = "index"
	body, err := c.call(ctx, op, pod, http.MethodPost, "/v2/repository/index", c.opts.RequestTimeout, c.opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	entries, err := parseIndex(body)
	if err != nil {
		return nil, &ResponseError{Op: op, Pod: pod.String(), Kind: KindMalformed, Status: http.StatusOK,
			Detail: "malformed index: " + err.Error()}
	}
	return entries, nil
}

// Load loads model on the pod, or reloads it if loaded, and returns when
// Triton is done.
func (c *Client) Load(ctx context.Context, pod netip.AddrPort, model string) error {
	return c.modelCall(ctx, pod, model, "load")
}

// Unload unloads model on the pod.
func (c *Client) Unload(ctx context.Context, pod netip.AddrPort, model string) error {
	return c.modelCall(ctx, pod, model, "unload")
}

// Ready returns nil when the pod answers its readiness endpoint with 200.
func (c *Client) Ready(ctx context.Context, pod netip.AddrPort) error {
	if err := checkPod(pod); err != nil {
		return err
	}
	_, err := c.call(ctx, "ready", pod, http.MethodGet, "/v2/health/ready", c.opts.RequestTimeout, errorBodyBytes)
	return err
}

func (c *Client) modelCall(ctx context.Context, pod netip.AddrPort, model, verb string) error {
	if err := checkPod(pod); err != nil {
		return err
	}
	if !ValidModelName(model) {
		return fmt.Errorf("triton %s: invalid model name %q", verb, Sanitize(model, 64))
	}
	path := "/v2/repository/models/" + url.PathEscape(model) + "/" + verb
	_, err := c.call(ctx, verb+" "+model, pod, http.MethodPost, path, c.opts.LoadTimeout, -1)
	return err
}

func checkPod(pod netip.AddrPort) error {
	if !pod.IsValid() || pod.Port() == 0 || pod.Addr().Zone() != "" {
		return fmt.Errorf("triton: invalid pod address %q", pod.String())
	}
	return nil
}

// call sends one request and returns the body of a 2xx answer, read up to
// limit bytes (a negative limit: the body is not read).
func (c *Client) call(ctx context.Context, op string, pod netip.AddrPort, method, path string,
	timeout time.Duration, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(kind, detail string, status int, cause error) error {
		return &ResponseError{Op: op, Pod: pod.String(), Kind: kind, Status: status, Detail: detail, Err: cause}
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+pod.String()+path, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("triton %s on %s: %w", op, pod, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(ctx, fail, timeout, err)
	}
	defer func() { _ = resp.Body.Close() }()

	switch code := resp.StatusCode; {
	case code >= 300 && code < 400:
		return nil, fail(KindRedirect, fmt.Sprintf("answered HTTP %d, a redirect, which is not followed", code), code, nil)
	case code < 200 || code >= 300:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
		detail := fmt.Sprintf("HTTP %d", code)
		if text := errorText(body); text != "" {
			detail += ": " + text
		}
		return nil, fail(KindStatus, detail, code, nil)
	}
	if limit < 0 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, errorBodyBytes)) // lets the connection be reused
		return nil, nil
	}
	if resp.ContentLength > limit {
		return nil, fail(KindOversized, fmt.Sprintf("answer of %d bytes is larger than the limit of %d", resp.ContentLength, limit),
			resp.StatusCode, nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, transportError(ctx, fail, timeout, err)
	}
	if int64(len(body)) > limit {
		return nil, fail(KindOversized, fmt.Sprintf("answer is larger than the limit of %d bytes", limit), resp.StatusCode, nil)
	}
	return body, nil
}

func transportError(ctx context.Context, fail func(string, string, int, error) error,
	timeout time.Duration, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fail(KindUnreachable, "canceled", 0, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		return fail(KindTimeout, fmt.Sprintf("no complete answer within %s", timeout), 0, err)
	}
	return fail(KindUnreachable, "unreachable: "+Sanitize(err.Error(), 200), 0, err)
}
