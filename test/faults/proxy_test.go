package faults

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// writeProxy sits between the manager and the API server. It counts the
// manager's mutating requests (POST, PUT, PATCH, DELETE; Leases and Events
// excluded) and, armed with a budget k, lets exactly k through: the
// (k+1)-th calls onTrip (which kills the manager) before it is forwarded,
// and is refused, as is every later write until the proxy is re-armed.
// Forwarded writes are detached from the manager's connection, so a write
// that got through completes even when the manager dies during it.
type writeProxy struct {
	server *httptest.Server
	proxy  *httputil.ReverseProxy

	mu        sync.Mutex
	armed     bool
	budget    int
	counted   int
	tripped   chan struct{}
	isTripped bool
	onTrip    func()
	log       []string // writes forwarded since the last arm
	total     int      // writes forwarded since the start
	inflight  int      // forwarded writes not yet answered
}

func newWriteProxy(apiServer string, caData []byte) (*writeProxy, error) {
	target, err := url.Parse(apiServer)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caData) {
		return nil, fmt.Errorf("no CA certificate for %s", apiServer)
	}
	transport := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}
	p := &writeProxy{tripped: make(chan struct{})}
	p.proxy = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     transport,
		FlushInterval: -1, // stream watches
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	// TLS, because client-go sends no bearer token over plain HTTP.
	p.server = httptest.NewUnstartedServer(p)
	p.server.EnableHTTP2 = true
	p.server.StartTLS()
	return p, nil
}

// URL is the proxy's https address.
func (p *writeProxy) URL() string { return p.server.URL }

// CAData is the PEM certificate the proxy serves with.
func (p *writeProxy) CAData() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.server.Certificate().Raw})
}

func (p *writeProxy) Close() { p.server.Close() }

func countedWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return false
	}
	return !strings.Contains(r.URL.Path, "/leases") && !strings.Contains(r.URL.Path, "/events")
}

func (p *writeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !countedWrite(r) {
		p.proxy.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	if p.isTripped {
		p.mu.Unlock()
		http.Error(w, "fault injection: the manager is dead", http.StatusServiceUnavailable)
		return
	}
	if p.armed && p.counted == p.budget {
		p.isTripped = true
		if p.onTrip != nil {
			p.onTrip()
		}
		close(p.tripped)
		p.mu.Unlock()
		http.Error(w, "fault injection: the manager is dead", http.StatusServiceUnavailable)
		return
	}
	p.counted++
	p.total++
	p.log = append(p.log, r.Method+" "+r.URL.Path)
	p.inflight++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}()
	p.proxy.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
}

// arm lets k more writes through and calls onTrip at the next one.
func (p *writeProxy) arm(k int, onTrip func()) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed, p.budget, p.counted, p.onTrip = true, k, 0, onTrip
	p.isTripped = false
	p.tripped = make(chan struct{})
	p.log = nil
	return p.tripped
}

// disarm forwards every write again and returns the writes forwarded since
// the last arm, after waiting for those still in flight.
func (p *writeProxy) disarm() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inflight > 0 {
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		p.mu.Lock()
	}
	p.armed, p.isTripped, p.onTrip = false, false, nil
	out := p.log
	p.log = nil
	return out
}

// writes is the number of writes forwarded since the proxy started.
func (p *writeProxy) writes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}
