package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionUsageAndUnknownCommands(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"version"}, nil, &out); err != nil || out.String() != version+"\n" {
		t.Fatalf("version printed %q (%v), want %q", out.String(), err, version+"\n")
	}
	out.Reset()
	if err := run(nil, nil, &out); err != nil || !strings.Contains(out.String(), "kalypso version") {
		t.Fatalf("usage %q (%v) does not list version", out.String(), err)
	}
	if err := run([]string{"promote"}, nil, &out); err == nil || !strings.Contains(err.Error(), `unknown command "promote"`) {
		t.Fatalf("an unknown command gave %v", err)
	}
}
