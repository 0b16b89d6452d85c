package tritonapi

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestParseAddressMap(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the result
		wantErr string
	}{
		{in: "", want: ""},
		{in: " , ", want: ""},
		{in: "10.0.0.0/8=127.0.0.1:19000", want: "10.0.0.0/8=127.0.0.1:19000"},
		{in: "10.0.0.0/8=127.0.0.1:19000,fd00::/8=[::1]:19000", want: "10.0.0.0/8=127.0.0.1:19000,fd00::/8=[::1]:19000"},
		{in: " 10.1.0.0/16 = 127.0.0.2:8000 ", want: "10.1.0.0/16=127.0.0.2:8000"},
		{in: "fd00::/8=127.0.0.1:1", want: "fd00::/8=127.0.0.1:1"},
		{in: "10.0.0.0/8=192.0.2.1:19000", wantErr: "not a loopback address"},
		{in: "10.0.0.0/8=10.0.0.1:19000", wantErr: "not a loopback address"},
		{in: "10.0.0.0/8=[2001:db8::1]:19000", wantErr: "not a loopback address"},
		{in: "10.0.0.0/8=0.0.0.0:19000", wantErr: "not a loopback address"},
		{in: "10.0.0.0/8=localhost:19000", wantErr: "invalid target"},
		{in: "10.0.0.0/8=127.0.0.1", wantErr: "invalid target"},
		{in: "10.0.0.0/8=127.0.0.1:0", wantErr: "non-zero port"},
		{in: "10.0.0.0/8=[::1%lo]:19000", wantErr: "zone"},
		{in: "10.0.0.0/8", wantErr: "want CIDR=HOST:PORT"},
		{in: "10.0.0.0=127.0.0.1:19000", wantErr: "invalid CIDR"},
		{in: "10.0.0.1/8=127.0.0.1:19000", wantErr: "host bits"},
		{in: "10.0.0.0/8=127.0.0.1:1,10.0.0.0/8=127.0.0.1:2", wantErr: "mapped twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := ParseAddressMap(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAddressMap(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddressMap(%q): %v", tt.in, err)
			}
			if got := m.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			again, err := ParseAddressMap(m.String())
			if err != nil || again.String() != m.String() {
				t.Fatalf("round trip of %q: %v, %q", m.String(), err, again.String())
			}
		})
	}
}

func TestAddressMapLookupLongestPrefix(t *testing.T) {
	m, err := ParseAddressMap("10.0.0.0/8=127.0.0.1:1,10.1.0.0/16=127.0.0.1:2,fd00::/8=[::1]:3")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want string
	}{
		{"10.0.0.7", "127.0.0.1:1"},
		{"10.1.2.3", "127.0.0.1:2"},
		{"::ffff:10.1.2.3", "127.0.0.1:2"},
		{"fd00::7", "[::1]:3"},
		{"192.0.2.1", ""},
		{"2001:db8::1", ""},
	}
	for _, tt := range tests {
		got, ok := m.Lookup(netip.MustParseAddr(tt.ip))
		if (tt.want == "") == ok || (ok && got.String() != tt.want) {
			t.Errorf("Lookup(%s) = %v, %v; want %q", tt.ip, got, ok, tt.want)
		}
	}
}

func TestDialerDestination(t *testing.T) {
	m, err := ParseAddressMap("10.0.0.0/8=127.0.0.1:19000")
	if err != nil {
		t.Fatal(err)
	}
	mapped := &Dialer{Map: m}
	both := &Dialer{Map: m, Direct: true}
	direct := &Dialer{Direct: true}
	tests := []struct {
		name    string
		d       *Dialer
		network string
		addr    string
		want    string
		wantErr error
		errText string
	}{
		{name: "mapped", d: mapped, addr: "10.0.0.7:8000", want: "127.0.0.1:19000"},
		{name: "mapped 4in6", d: mapped, addr: "[::ffff:10.0.0.7]:8000", want: "127.0.0.1:19000"},
		{name: "unmapped", d: mapped, addr: "192.0.2.1:8000", wantErr: ErrNoMapping},
		{name: "no map", d: &Dialer{}, addr: "10.0.0.7:8000", wantErr: ErrNoMapping},
		{name: "nil dialer", d: nil, addr: "10.0.0.7:8000", wantErr: ErrNoMapping},
		{name: "mapped wins over direct", d: both, addr: "10.9.9.9:8000", want: "127.0.0.1:19000"},
		{name: "direct", d: both, addr: "192.0.2.1:8000", want: "192.0.2.1:8000"},
		{name: "direct v6", d: direct, addr: "[2001:db8::1]:8000", want: "[2001:db8::1]:8000"},
		{name: "name", d: both, addr: "example.invalid:80", wantErr: ErrNotIPLiteral},
		{name: "localhost name", d: both, addr: "localhost:80", wantErr: ErrNotIPLiteral},
		{name: "no port", d: both, addr: "10.0.0.7", errText: "missing port"},
		{name: "port zero", d: both, addr: "10.0.0.7:0", errText: "invalid port"},
		{name: "named port", d: both, addr: "10.0.0.7:http", errText: "invalid port"},
		{name: "udp", d: both, network: "udp", addr: "10.0.0.7:8000", errText: "network"},
		{name: "zone", d: direct, addr: "[fe80::1%eth0]:8000", errText: "zone"},
		{name: "unspecified", d: direct, addr: "0.0.0.0:8000", errText: "unicast"},
		{name: "broadcast", d: direct, addr: "255.255.255.255:8000", errText: "unicast"},
		{name: "hand-built bad map", d: &Dialer{Map: AddressMap{{Prefix: netip.MustParsePrefix("10.0.0.0/8"),
			Target: netip.MustParseAddrPort("192.0.2.1:80")}}}, addr: "10.0.0.7:8000", errText: "not a loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			network := tt.network
			if network == "" {
				network = "tcp"
			}
			got, err := tt.d.Destination(network, tt.addr)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Destination(%s) error = %v, want %v", tt.addr, err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Destination(%s) error = %v, want one containing %q", tt.addr, err, tt.errText)
				}
			case err != nil || got != tt.want:
				t.Fatalf("Destination(%s) = %q, %v; want %q", tt.addr, got, err, tt.want)
			}
		})
	}
}

func TestDialerEnabled(t *testing.T) {
	var nilDialer *Dialer
	m, _ := ParseAddressMap("10.0.0.0/8=127.0.0.1:1")
	for _, tt := range []struct {
		d    *Dialer
		want bool
	}{{nilDialer, false}, {&Dialer{}, false}, {&Dialer{Direct: true}, true}, {&Dialer{Map: m}, true}} {
		if got := tt.d.Enabled(); got != tt.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestDialerRefusesWithoutDialling(t *testing.T) {
	m, _ := ParseAddressMap("10.0.0.0/8=127.0.0.1:1")
	d := &Dialer{Map: m, Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
		t.Errorf("dialled %s", addr)
		return nil, errors.New("no")
	}}
	for _, addr := range []string{"192.0.2.1:8000", "example.invalid:80", "[2001:db8::1]:80"} {
		if _, err := d.DialContext(context.Background(), "tcp", addr); err == nil {
			t.Errorf("DialContext(%s) succeeded", addr)
		}
	}
}
