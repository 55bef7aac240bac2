package config

import (
	"net"
	"strings"
)

// IsLoopback reports whether a listen address (host:port) only accepts
// connections from this machine: a loopback IP or localhost. An empty host
// (every interface) is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
