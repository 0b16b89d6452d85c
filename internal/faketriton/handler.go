package faketriton

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

const (
	stateReady       = tritonapi.StateReady
	stateUnavailable = tritonapi.StateUnavailable
	stateLoading     = tritonapi.StateLoading

	modelsPrefix = "/v2/repository/models/"
	// notExplicit is Triton's answer to load/unload in mode none or poll.
	notExplicit = "explicit model load / unload is not allowed if polling is enabled"
	// oversizedBytes is the size of an Oversized index.
	oversizedBytes = 4 << 20
	maxRequestBody = 64 << 10
)

// indexEntry is one entry of the repository index as Triton writes it.
type indexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ServeHTTP answers one request of the pod named by its Host header.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	pod := r.Host
	s.mu.Lock()
	s.hosts[pod] = struct{}{}
	redirect := s.podScripts[pod].redirect
	s.mu.Unlock()

	prof := s.profile(pod)
	if prof.Unknown {
		writeError(w, http.StatusServiceUnavailable, "Server not ready")
		return
	}
	path := r.URL.Path
	if redirect != "" && strings.HasPrefix(path, "/v2/repository/") {
		http.Redirect(w, r, redirect, http.StatusTemporaryRedirect)
		return
	}
	switch {
	case path == "/v2/health/ready" || path == "/v2/health/live":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		s.mu.Lock()
		s.contact(pod, prof, time.Now())
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case path == "/v2/repository/index":
		s.indexRequests.Add(1)
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		s.index(w, r, pod, prof)
	case strings.HasPrefix(path, modelsPrefix):
		name, verb, _ := strings.Cut(strings.TrimPrefix(path, modelsPrefix), "/")
		switch {
		case r.Method != http.MethodPost:
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		case verb == "load":
			s.load(w, r, pod, prof, name)
		case verb == "unload":
			s.unload(w, pod, prof, name)
		default:
			writeError(w, http.StatusNotFound, "Not Found")
		}
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) index(w http.ResponseWriter, r *http.Request, pod string, prof Profile) {
	var req struct {
		Ready bool `json:"ready"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "failed to parse the request JSON buffer")
		return
	}
	now := time.Now()
	s.mu.Lock()
	script := s.podScripts[pod]
	p := s.contact(pod, prof, now)
	names := slices.Clone(prof.Repository)
	for name := range p.models {
		names = append(names, name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	entries := make([]indexEntry, 0, len(names))
	for _, name := range names {
		m, ok := p.models[name]
		if !ok {
			if !req.Ready {
				entries = append(entries, indexEntry{Name: name})
			}
			continue
		}
		m.settle(now)
		if req.Ready && m.state != stateReady {
			continue
		}
		entries = append(entries, indexEntry{Name: name, Version: "1", State: m.state, Reason: m.reason})
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case script.oversized:
		writeOversized(w)
	case script.malformed:
		_, _ = io.WriteString(w, `[{"name":"simple","version":"1","state":"READY"`)
	default:
		_ = json.NewEncoder(w).Encode(entries)
	}
}

func writeOversized(w io.Writer) {
	chunk := []byte(strings.Repeat(`{"name":"padding"},`, 1<<11))
	if _, err := w.Write([]byte("[")); err != nil {
		return
	}
	for n := 0; n < oversizedBytes; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	_, _ = w.Write([]byte(`{"name":"padding"}]`))
}

func (s *Server) load(w http.ResponseWriter, r *http.Request, pod string, prof Profile, name string) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxRequestBody))
	now := time.Now()
	s.mu.Lock()
	s.loads[podModel{pod, name}]++
	p := s.contact(pod, prof, now)
	if !prof.Explicit {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, notExplicit)
		return
	}
	if !slices.Contains(prof.Repository, name) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, fmt.Sprintf("failed to load '%s', failed to poll from model repository", name))
		return
	}
	script := s.models[name]
	prev := p.models[name]
	if prev != nil {
		prev.settle(now)
	}
	p.models[name] = s.startLoad(prev, script, now)
	s.mu.Unlock()

	if script.slow > 0 {
		t := time.NewTimer(script.slow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	if script.failLoad != "" {
		writeError(w, http.StatusBadRequest, script.failLoad)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) unload(w http.ResponseWriter, pod string, prof Profile, name string) {
	s.mu.Lock()
	s.unloads[podModel{pod, name}]++
	p := s.contact(pod, prof, time.Now())
	if !prof.Explicit {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, notExplicit)
		return
	}
	if _, ok := p.models[name]; ok {
		p.models[name] = &model{state: stateUnavailable, reason: "unloaded"}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
