package portmap

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// Reservation holds host ports for a running container: a socket bound (not
// listening) to each HostIP:HostPort/Protocol so no other container or host
// program can take it. The ports stay held until Close; the sockets are
// close-on-exec, so they are held by the process that called Reserve only.
type Reservation struct {
	mu  sync.Mutex
	fds []int
}

// Reserve binds every mapping and returns the mappings with their final host
// ports, in the order of ms, HostPortEnd cleared and Protocol normalized ("" is
// tcp). HostPort 0 lets the kernel pick a port from ip_local_port_range; a
// range (HostPortEnd above HostPort) takes its first free port. Fixed ports are
// bound first, then ranges, then random ports, so a random pick never takes a
// port that a later mapping names.
//
// TCP sockets are bound without listen (incoming connections are DNATed before
// they could reach them); UDP sockets are bound. A zero HostIP binds the
// wildcard of both families with one AF_INET6 socket (IPV6_V6ONLY=0), so one
// port number holds for both; where the host has no IPv6 it binds 0.0.0.0 and
// the returned mapping says so (HostIP 0.0.0.0). SO_REUSEADDR is not set, so
// neither another program's listener nor another reservation can share a port.
//
// A port in use gives an error of class errdefs.ErrConflict reading "host port
// 8080/tcp is already in use", for which errors.Is(err, unix.EADDRINUSE) holds;
// so does the error for the same host IP, port and protocol named twice in ms
// (class errdefs.ErrInvalidArgument). On error nothing stays bound.
func Reserve(ms []Mapping) ([]Mapping, *Reservation, error) {
	out := make([]Mapping, len(ms))
	type hostKey struct {
		ip    netip.Addr
		port  uint16
		proto string
	}
	seen := make(map[hostKey]bool)
	for i, m := range ms {
		m, err := normalize(m)
		if err != nil {
			return nil, nil, err
		}
		if m.HostPort != 0 && !m.IsRange() {
			k := hostKey{m.HostIP, m.HostPort, m.Protocol}
			if seen[k] {
				return nil, nil, &portError{
					msg:   fmt.Sprintf("host port %s is published more than once", hostDesc(m.HostIP, strconv.Itoa(int(m.HostPort)), m.Protocol)),
					class: errdefs.ErrInvalidArgument,
					cause: unix.EADDRINUSE,
				}
			}
			seen[k] = true
		}
		out[i] = m
	}

	r := &Reservation{}
	// Pass 0: fixed ports; 1: ranges; 2: random.
	for pass := 0; pass < 3; pass++ {
		for i := range out {
			if bindPass(out[i]) != pass {
				continue
			}
			if err := r.bind(&out[i]); err != nil {
				r.Close()
				return nil, nil, err
			}
		}
	}
	return out, r, nil
}

// Close releases the ports. It may be called more than once, and on nil.
func (r *Reservation) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	fds := r.fds
	r.fds = nil
	r.mu.Unlock()
	var errs []error
	for _, fd := range fds {
		if err := unix.Close(fd); err != nil {
			errs = append(errs, fmt.Errorf("close reserved port socket: %w", err))
		}
	}
	return errors.Join(errs...)
}

func bindPass(m Mapping) int {
	switch {
	case m.IsRange():
		return 1
	case m.HostPort == 0:
		return 2
	default:
		return 0
	}
}

// normalize checks m and puts it in the form Reserve returns.
func normalize(m Mapping) (Mapping, error) {
	m.Protocol = strings.ToLower(protoOrTCP(m.Protocol))
	var why string
	switch {
	case m.Protocol == "sctp":
		why = "protocol sctp is not supported"
	case m.Protocol != TCP && m.Protocol != UDP:
		why = fmt.Sprintf("unknown protocol %q (want tcp or udp)", m.Protocol)
	case m.ContainerPort == 0:
		why = "container port 0 is out of range 1-65535"
	case m.HostPort == 0 && m.HostPortEnd != 0:
		why = "a host port range cannot start at 0"
	case m.HostIP.Zone() != "":
		why = fmt.Sprintf("host IP %s has a zone, which is not supported", m.HostIP)
	}
	if why != "" {
		return m, errdefs.InvalidArgument("invalid port mapping %s: %s", m, why)
	}
	m.HostIP = m.HostIP.Unmap()
	if !m.IsRange() {
		m.HostPortEnd = 0
	}
	return m, nil
}

// bind reserves m's host port and fills in the port it got.
func (r *Reservation) bind(m *Mapping) error {
	if m.IsRange() {
		for p := int(m.HostPort); p <= int(m.HostPortEnd); p++ {
			err := r.bindPort(m, uint16(p))
			if err == nil {
				m.HostPortEnd = 0
				return nil
			}
			if !errors.Is(err, unix.EADDRINUSE) {
				return bindError(m, strconv.Itoa(p), err)
			}
		}
		return &portError{
			msg:   fmt.Sprintf("every host port in %s is already in use", hostDesc(m.HostIP, hostPortString(*m), m.Protocol)),
			class: errdefs.ErrConflict,
			cause: unix.EADDRINUSE,
		}
	}
	if err := r.bindPort(m, m.HostPort); err != nil {
		if m.HostPort == 0 {
			return fmt.Errorf("cannot reserve a random host port for %s: %w", m.Key(), err)
		}
		return bindError(m, strconv.Itoa(int(m.HostPort)), err)
	}
	return nil
}

// bindPort binds one socket for m on port (0: the kernel's choice) and, on
// success, records it and sets m.HostPort (and m.HostIP where a wildcard fell
// back to IPv4 only).
func (r *Reservation) bindPort(m *Mapping, port uint16) error {
	typ := unix.SOCK_STREAM
	if m.Protocol == UDP {
		typ = unix.SOCK_DGRAM
	}
	var (
		fd   int
		got  uint16
		err  error
		ipv4 bool
	)
	switch {
	case !m.HostIP.IsValid():
		fd, got, err = bindSocket(netip.IPv6Unspecified(), false, port, typ)
		if err != nil && noIPv6(err) {
			fd, got, err = bindSocket(netip.IPv4Unspecified(), false, port, typ)
			ipv4 = true
		}
	default:
		fd, got, err = bindSocket(m.HostIP, true, port, typ)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.fds = append(r.fds, fd)
	r.mu.Unlock()
	m.HostPort = got
	if ipv4 {
		m.HostIP = netip.IPv4Unspecified()
	}
	return nil
}

// noIPv6 reports whether err from an AF_INET6 socket says the host has no
// IPv6.
func noIPv6(err error) bool {
	return errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EPROTONOSUPPORT) ||
		errors.Is(err, unix.EADDRNOTAVAIL)
}

// bindSocket returns a close-on-exec socket of type typ bound to ip:port, and
// the port it is bound to. An IPv6 socket is IPv6-only when v6only is set, else
// dual-stack. Errors keep the errno for errors.Is.
func bindSocket(ip netip.Addr, v6only bool, port uint16, typ int) (int, uint16, error) {
	family := unix.AF_INET
	if ip.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, os.NewSyscallError("socket", err)
	}
	fail := func(call string, err error) (int, uint16, error) {
		unix.Close(fd)
		return -1, 0, os.NewSyscallError(call, err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		v := 0
		if v6only {
			v = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v); err != nil {
			return fail("setsockopt", err)
		}
		sa = &unix.SockaddrInet6{Port: int(port), Addr: ip.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	}
	if typ == unix.SOCK_DGRAM {
		// Nothing reads the socket: keep what may queue on it small (the
		// kernel rounds 0 up to its minimum).
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 0)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if port != 0 {
		return fd, port, nil
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	switch a := bound.(type) {
	case *unix.SockaddrInet4:
		port = uint16(a.Port)
	case *unix.SockaddrInet6:
		port = uint16(a.Port)
	}
	if port == 0 {
		unix.Close(fd)
		return -1, 0, errors.New("the kernel bound no port")
	}
	return fd, port, nil
}

// bindError describes a failure to bind m's host port.
func bindError(m *Mapping, port string, err error) error {
	desc := hostDesc(m.HostIP, port, m.Protocol)
	switch {
	case errors.Is(err, unix.EADDRINUSE):
		return &portError{
			msg:   fmt.Sprintf("host port %s is already in use", desc),
			class: errdefs.ErrConflict,
			cause: err,
		}
	case errors.Is(err, unix.EADDRNOTAVAIL):
		return errdefs.InvalidArgument("cannot reserve host port %s: %s is not an address of this host: %w", desc, m.HostIP, err)
	default:
		return fmt.Errorf("cannot reserve host port %s: %w", desc, err)
	}
}

// hostDesc names a host port in errors: "8080/tcp" on all addresses,
// "127.0.0.1:8080/tcp" or "[::1]:8080/tcp" on one.
func hostDesc(ip netip.Addr, port, proto string) string {
	if !ip.IsValid() {
		return port + "/" + proto
	}
	return net.JoinHostPort(ip.String(), port) + "/" + proto
}

// portError is an error with a message of its own, a class from errdefs and
// a cause (the errno) for errors.Is.
type portError struct {
	msg   string
	class error
	cause error
}

func (e *portError) Error() string { return e.msg }

func (e *portError) Is(target error) bool { return e.class != nil && target == e.class }

func (e *portError) Unwrap() error { return e.cause }
