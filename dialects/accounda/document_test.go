package accounda_test

import (
	"net/http"
	"testing"
)

// TestDocumentWording covers where the documents leave room: a bare
// user_data is "provided"; a 401 names the RFC 6750 error; parameters sent
// in a GET body, a ';' separator and the sample line's "µsoft" damage each
// get a message saying what is wrong; a grant_type other than the
// endpoint's is refused rather than served.
func TestDocumentWording(t *testing.T) {
	g := start(t, "")
	tok := token(t, g, "demo-client", "demo-secret")
	headers := userHeaders(tok, "demo-client", "demo-auth-token")

	// "If provided, user data is returned."
	for _, q := range []string{"?auth_id=1&user_data", "?auth_id=1&user_data=", "?auth_id=1&user_data&github=1"} {
		if d := dataOf(t, send(t, g, http.MethodGet, "/v1/user/validate/"+q, headers, "")); d["username"] != "johndoe" {
			t.Fatalf("%s: %v", q, d)
		}
	}

	r := send(t, g, http.MethodGet, "/v1/user/validate/?auth_id=1", userHeaders("not-a-token", "demo-client", "demo-auth-token"), "")
	wantError(t, r, 401, msgInvalidToken)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="accounda", error="invalid_token"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}

	withJSON := append(userHeaders(tok, "demo-client", "demo-auth-token"), [2]string{"Content-Type", "application/json"})
	wantError(t, send(t, g, http.MethodGet, "/v1/user/validate/", withJSON, `{"auth_id": 1, "user_data": true}`), 400,
		"Send auth_id and the other parameters in the query string: the body of a GET request is not read")

	wantError(t, send(t, g, http.MethodGet, "/v1/user/validate/?auth_id=1;user_data=1", headers, ""), 400,
		"Malformed request: ';' does not separate parameters, use '&' (send a ';' inside a value as %3B)")

	r = send(t, g, http.MethodGet, "/v1/user/information/?auth_id=user_related_auth_id&discord=1µsoft=1&google=1&github=1",
		userHeaders(tok, "demo-client", ""), "")
	wantError(t, r, 400, `Malformed parameter "µsoft" in the value of discord: probably "&microsoft=1" with "&micro" turned into "µ" by an HTML entity; send &microsoft=1`)

	if r := postForm(t, g, "/v1/token/", "client_id=demo-client&client_secret=demo-secret&grant_type=client_credentials"); r.status != 200 {
		t.Fatalf("grant_type=client_credentials: %d %s", r.status, r.body)
	}
	wantError(t, postForm(t, g, "/v1/token/", "client_id=demo-client&client_secret=demo-secret&grant_type=password"), 400,
		"Unsupported grant type")
	wantError(t, postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", tok)+"&grant_type=client_credentials"), 400,
		"Unsupported grant type")
	if r := postForm(t, g, "/v1/token/refresh/", refreshForm("demo-client", "demo-secret", tok)+"&grant_type=refresh_token"); r.status != 200 {
		t.Fatalf("grant_type=refresh_token at refresh: %d %s", r.status, r.body)
	}
}

// TestHeadOnUserEndpoints: HEAD answers as GET, without a body.
func TestHeadOnUserEndpoints(t *testing.T) {
	g := start(t, "")
	tok := token(t, g, "demo-client", "demo-secret")
	r := send(t, g, http.MethodHead, validateSampleQuery, userHeaders(tok, "demo-client", "demo-auth-token"), "")
	if r.status != 200 || len(r.body) != 0 {
		t.Fatalf("HEAD: %d %q", r.status, r.body)
	}
}
