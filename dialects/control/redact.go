package control

import (
	"net/http"
	"strings"

	"github.com/tokengate/tokengate/dialects/wire"
)

// Redacted replaces every secret value in the journal.
const Redacted = "[redacted]"

// secretParams are the standard parameters whose values are credentials,
// tokens or codes (RFC 6749, 7009, 7521, 7636, 7662, 8628, 8693, OpenID Connect); a
// dialect declares its own others (wire.Facts). They never reach the journal.
var secretParams = map[string]bool{
	"client_secret": true, "password": true, "code": true, "code_verifier": true, "refresh_token": true,
	"access_token": true, "token": true, "assertion": true, "client_assertion": true, "id_token": true,
	"subject_token": true, "actor_token": true, "device_code": true, "user_code": true, "id_token_hint": true,
	"login_hint_token": true,
}

// secretHeaders are the standard headers that carry credentials;
// Authorization keeps only its scheme. A dialect declares its own others.
var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
}

// credentialWords mark a header no dialect declared as a credential all the
// same (X-Api-Key, Api-Key, X-Auth-Token, X-Session-Secret, ...): clients
// send such headers to gateways that never asked for them.
var credentialWords = []string{"token", "secret", "key", "passw", "auth", "cookie", "credential", "session", "signature"}

func credentialLike(name string) bool {
	for _, w := range credentialWords {
		if containsFoldASCII(name, w) {
			return true
		}
	}
	return false
}

// containsFoldASCII reports whether s contains the lower-case ASCII word w,
// in any case, without lower-casing s first (a copy per header per request).
func containsFoldASCII(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) && s[i+j]|0x20 == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// secretParam reports whether parameter k's values are credentials: a
// standard secret parameter or one f declares.
func secretParam(k string, f *wire.Facts) bool {
	return secretParams[strings.ToLower(k)] || containsFold(f.SecretParams, k)
}

// redactHeader is header k's values as the journal shows them: joined, and
// redacted when k carries credentials (standard ones, those f declares,
// and any whose name looks like one: see credentialWords); an
// Authorization header keeps its scheme so a test can see "Basic" or
// "Bearer" was used.
func redactHeader(k string, vals []string, f *wire.Facts) string {
	v := strings.Join(vals, ", ")
	if secretHeaders[http.CanonicalHeaderKey(k)] || containsFold(f.SecretHeaders, k) || credentialLike(k) {
		if scheme, _, ok := strings.Cut(v, " "); ok && (k == "Authorization" || k == "Proxy-Authorization") {
			switch scheme { // the usual ones without a concatenation per request
			case "Basic":
				return "Basic " + Redacted
			case "Bearer":
				return "Bearer " + Redacted
			}
			return scheme + " " + Redacted
		}
		return Redacted
	}
	return v
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
