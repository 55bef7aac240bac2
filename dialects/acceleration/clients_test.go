package acceleration_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
)

// TestJWTOnTheVerifiersClock: after the gateway clock moved ahead, a new
// token still passes a verifier that judges by the real clock and rejects
// an iat in its future (golang-jwt with WithIssuedAt, as PyJWT does by
// default): iat and auth_time are never after the real time, while exp
// keeps following the gateway clock.
func TestJWTOnTheVerifiersClock(t *testing.T) {
	g := start(t, "")
	g.Clock().Advance(2 * time.Hour)
	token := issue(t, g.URL, "demo-user")
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tk *jwt.Token) (any, error) {
		return mustKeys(t, g.URL)[tk.Header["kid"].(string)], nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("a verifier on the real clock rejects the token: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	if want := g.Clock().Now().Add(2 * time.Hour); exp.Unix() < want.Unix()-60 || exp.Unix() > want.Unix()+1 {
		t.Fatalf("exp %v, want the gateway clock's %v", exp, want)
	}
	if claims["auth_time"] != claims["iat"] {
		t.Fatalf("auth_time %v, iat %v", claims["auth_time"], claims["iat"])
	}
	// The gateway, on its own clock, serves the token and expires it on time.
	if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+token); r.status != 200 {
		t.Fatalf("userinfo: %d %s", r.status, r.raw)
	}
	g.Clock().Advance(2 * time.Hour)
	if r := call(t, g.URL, http.MethodGet, userinfoPath, "", "Authorization", "Bearer "+token); r.status != 401 {
		t.Fatalf("userinfo after expiry: %d %s", r.status, r.raw)
	}
}

// TestDataModelInTheQuery: the document's Data Model lists client_id and
// client_secret beside grant_type and user_id, which its request sends in
// the query; all four there work, and the journal redacts the secret.
func TestDataModelInTheQuery(t *testing.T) {
	g := start(t, "")
	q := url.Values{"grant_type": {"client_credentials"}, "user_id": {"demo-user"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}}
	if r := call(t, g.URL, http.MethodPost, tokenPath+"?"+q.Encode(), "", "Accept", "application/json"); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	sent, err := g.Admin.Requests(control.Filter{Dialect: "acceleration", Limit: 1})
	if err != nil || len(sent) != 1 {
		t.Fatalf("journal: %v %v", sent, err)
	}
	if got := sent[0].Params["client_secret"]; len(got) != 1 || got[0] != control.Redacted {
		t.Fatalf("journal shows client_secret %v", got)
	}
}

// TestBasicRaw: secrets with + % : authenticate whether the Basic parts are
// form-encoded or, as requests-oauthlib, Authlib and curl -u send them, raw.
func TestBasicRaw(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
dialects:
  acceleration: {}
clients:
  - {client_id: "svc+1", client_secret: "a+b%2F:c", grants: [client_credentials]}
users:
  - {user_id: demo-user, username: johndoe}
`})
	for _, header := range []string{basic("svc+1", "a+b%2F:c"), basic(url.QueryEscape("svc+1"), url.QueryEscape("a+b%2F:c"))} {
		r := call(t, g.URL, http.MethodPost, tokenPath+"?grant_type=client_credentials&user_id=demo-user", "", "Authorization", header)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", header, r.status, r.raw)
		}
	}
	if strings.Contains(g.Logs.String(), "a+b%2F:c") {
		t.Fatal("the secret reached the log")
	}
}
