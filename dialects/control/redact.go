package control

import (
	"net/http"
	"net/url"
	"strings"
)

// Redacted replaces every secret value in the journal.
const Redacted = "[redacted]"

// secretParams are parameters whose values are credentials, tokens or codes
// in some dialect; they never reach the journal.
var secretParams = map[string]bool{
	"client_secret": true, "clientsecret": true, "password": true, "code": true, "code_verifier": true,
	"refresh_token": true, "access_token": true, "token": true, "auth_token": true, "csrf_token": true,
	"id_token": true, "assertion": true, "secret": true,
}

// secretHeaders carry credentials; Authorization keeps only its scheme.
var secretHeaders = map[string]bool{
	"Authorization": true, "Auth-Token": true, "Cookie": true, "Set-Cookie": true,
	"Proxy-Authorization": true, "X-Admin-Token": true,
}

// RedactParams copies params with secret values replaced.
func RedactParams(p url.Values) map[string][]string {
	out := make(map[string][]string, len(p))
	for k, vals := range p {
		if secretParams[strings.ToLower(k)] {
			r := make([]string, len(vals))
			for i := range r {
				r[i] = Redacted
			}
			out[k] = r
			continue
		}
		out[k] = append([]string(nil), vals...)
	}
	return out
}

// RedactHeaders copies headers with credentials replaced; an Authorization
// header keeps its scheme so a test can see "Basic" or "Bearer" was used.
func RedactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vals := range h {
		v := strings.Join(vals, ", ")
		if secretHeaders[http.CanonicalHeaderKey(k)] {
			if scheme, _, ok := strings.Cut(v, " "); ok && (k == "Authorization" || k == "Proxy-Authorization") {
				v = scheme + " " + Redacted
			} else {
				v = Redacted
			}
		}
		out[k] = v
	}
	return out
}
