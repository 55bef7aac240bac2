package admin

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// HostGuard protects everything under /_admin (the API and the web console)
// on a listener bound to a loopback address from DNS rebinding: a web page
// whose own name it rebinds to 127.0.0.1 could otherwise reach a
// developer's local gateway with the public demo admin token. Requests
// whose Host is not a loopback name (localhost, *.localhost, 127.0.0.0/8,
// ::1) or one of allowed (admin_allowed_hosts, with or without a port) get
// 403 before the token is even looked at. On other listeners it does
// nothing: their Host names are the operator's business.
func HostGuard(listen string, allowed []string) echo.MiddlewareFunc {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || !loopbackName(host) {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	ok := map[string]bool{}
	for _, h := range allowed {
		ok[normalHost(h)] = true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			path := c.Request().URL.Path
			if path != Prefix && !strings.HasPrefix(path, Prefix+"/") {
				return next(c)
			}
			full := normalHost(c.Request().Host)
			name := full
			if h, _, err := net.SplitHostPort(full); err == nil {
				name = h
			}
			if loopbackName(name) || ok[full] || ok[name] {
				return next(c)
			}
			return c.JSON(http.StatusForbidden, Problem{Error: "forbidden_host",
				Message: "on a loopback listener /_admin answers only to localhost, 127.0.0.1 or [::1] " +
					"(or a name listed in admin_allowed_hosts) in the Host header"})
		}
	}
}

// loopbackName reports whether a host name or address can only mean this
// machine: localhost, a name under .localhost (RFC 6761), an address in
// 127.0.0.0/8 or ::1.
func loopbackName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func normalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}
