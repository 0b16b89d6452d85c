package tritonapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ErrNoMapping is returned (wrapped with the destination) when a Dialer has
// no mapping for an address and may not dial pods directly.
var ErrNoMapping = errors.New("no address mapping for destination")

// ErrNotIPLiteral is returned (wrapped) when asked to dial a host name: the
// dialer never resolves names.
var ErrNotIPLiteral = errors.New("destination host is not an IP literal")

// defaultDialTimeout bounds a TCP connect when Dialer.Dial is nil.
const defaultDialTimeout = 3 * time.Second

// Mapping sends every destination inside Prefix to Target, whatever its port.
type Mapping struct {
	Prefix netip.Prefix
	Target netip.AddrPort
}

// AddressMap is a list of mappings; the longest matching prefix wins.
type AddressMap []Mapping

// ParseAddressMap parses a comma-separated list of CIDR=HOST:PORT, such as
// "10.0.0.0/8=127.0.0.1:19000,fd00::/8=[::1]:19000". Every target must be a
// loopback address; a prefix must have no host bits set and may appear once.
// An empty (or all-blank) string is an empty map.
func ParseAddressMap(s string) (AddressMap, error) {
	var m AddressMap
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		cidr, target, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("address map entry %q: want CIDR=HOST:PORT", item)
		}
		mp, err := parseMapping(strings.TrimSpace(cidr), strings.TrimSpace(target))
		if err != nil {
			return nil, fmt.Errorf("address map entry %q: %w", item, err)
		}
		for _, prev := range m {
			if prev.Prefix == mp.Prefix {
				return nil, fmt.Errorf("address map entry %q: prefix %s is mapped twice", item, mp.Prefix)
			}
		}
		m = append(m, mp)
	}
	return m, nil
}

func parseMapping(cidr, target string) (Mapping, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return Mapping{}, fmt.Errorf("invalid CIDR: %w", err)
	}
	if p.Masked() != p {
		return Mapping{}, fmt.Errorf("CIDR %s has host bits set (did you mean %s?)", p, p.Masked())
	}
	t, err := netip.ParseAddrPort(target)
	if err != nil {
		return Mapping{}, fmt.Errorf("invalid target (want IP:PORT): %w", err)
	}
	if err := checkTarget(t); err != nil {
		return Mapping{}, err
	}
	return Mapping{Prefix: p, Target: t}, nil
}

func checkTarget(t netip.AddrPort) error {
	if !t.IsValid() || t.Port() == 0 {
		return fmt.Errorf("target %s: want IP:PORT with a non-zero port", t)
	}
	if t.Addr().Zone() != "" {
		return fmt.Errorf("target %s: an IPv6 zone is not allowed", t)
	}
	if !t.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("target %s is not a loopback address: a mapping may only lead to 127.0.0.0/8 or ::1", t.Addr())
	}
	return nil
}

// String formats the map as ParseAddressMap reads it.
func (m AddressMap) String() string {
	parts := make([]string, 0, len(m))
	for _, mp := range m {
		parts = append(parts, mp.Prefix.String()+"="+mp.Target.String())
	}
	return strings.Join(parts, ",")
}

// Lookup returns the target of the longest prefix holding ip (an IPv4-mapped
// IPv6 address is looked up as IPv4).
func (m AddressMap) Lookup(ip netip.Addr) (netip.AddrPort, bool) {
	ip = ip.Unmap().WithZone("")
	best := -1
	for i, mp := range m {
		if mp.Prefix.Contains(ip) && (best < 0 || mp.Prefix.Bits() > m[best].Prefix.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return netip.AddrPort{}, false
	}
	return m[best].Target, true
}

// Dialer is the one way the operator connects to Triton pods. A destination
// inside a mapping's prefix is dialled at the mapping's (loopback) target;
// any other one only when Direct is set. Names are never resolved.
type Dialer struct {
	// Direct allows dialling unmapped pod IPs themselves (a real cluster).
	Direct bool
	// Map sends simulated pod addresses to fakes on the loopback interface.
	Map AddressMap
	// Dial connects to the chosen address; nil is a net.Dialer with a
	// short timeout. Tests inject it to observe every dial.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Enabled reports whether the dialer can reach any pod at all.
func (d *Dialer) Enabled() bool {
	return d != nil && (d.Direct || len(d.Map) > 0)
}

// Destination returns the address DialContext would connect to for addr,
// or the reason it refuses.
func (d *Dialer) Destination(network, addr string) (string, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return "", fmt.Errorf("refusing to dial %s network %q", addr, network)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("refusing to dial %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("refusing to dial %q: %w", addr, ErrNotIPLiteral)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return "", fmt.Errorf("refusing to dial %q: invalid port", addr)
	}
	if ip.Zone() != "" {
		return "", fmt.Errorf("refusing to dial %q: an IPv6 zone is not allowed", addr)
	}
	if d == nil {
		return "", fmt.Errorf("%w %s", ErrNoMapping, addr)
	}
	if t, ok := d.Map.Lookup(ip); ok {
		if err := checkTarget(t); err != nil { // a Map built by hand
			return "", fmt.Errorf("refusing to dial %s: %w", addr, err)
		}
		return t.String(), nil
	}
	if !d.Direct {
		return "", fmt.Errorf("%w %s", ErrNoMapping, addr)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "", fmt.Errorf("refusing to dial %s: not a unicast address", addr)
	}
	return netip.AddrPortFrom(ip, uint16(port)).String(), nil
}

// DialContext connects to addr, an IP literal host:port, as Destination
// decides. It fits http.Transport.DialContext.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	dest, err := d.Destination(network, addr)
	if err != nil {
		return nil, err
	}
	dial := (&net.Dialer{Timeout: defaultDialTimeout}).DialContext
	if d.Dial != nil {
		dial = d.Dial
	}
	// A mapped target may be of the other IP family than the pod.
	return dial(ctx, "tcp", dest)
}
