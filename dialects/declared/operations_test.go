package declared_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"

	"github.com/tokengate/tokengate/dialects/admin"
)

// opsSpec binds one route to each of userinfo, revoke and static.
const opsSpec = `name: ops
base_path: /ops
routes:
  - method: POST
    path: /ops/token
    operation: token
    grant: client_credentials
    inputs: {client_id: basic.id, client_secret: basic.secret, user_id: form.user}
    response: {body: {access_token: "{access_token}"}}
  - path: /ops/me
    operation: userinfo
    inputs: {token: {from: bearer, required: true}}
    response: {body: {sub: "{user.id}", email: "{user.email}", name: "{user.name}", client: "{client_id}"}}
  - method: POST
    path: /ops/revoke
    operation: revoke
    inputs: {token: form.token, client_id: basic.id, client_secret: basic.secret}
    response: {body: {revoked: true}}
  - path: /ops/.well-known/openid-configuration
    operation: static
    response: {body: {issuer: "{base_url}", token_endpoint: "{base_url}/ops/token"}}
errors:
  body: {error: "{code}"}
  rules:
    - when: {kind: [invalid_token, expired_token]}
      status: 401
      code: invalid_token
      headers: {WWW-Authenticate: Bearer}
  default: {status: 400, code: bad}
`

// TestUserinfoRevokeStatic: a userinfo route shows the token's user, a
// revoke route revokes the caller's token (userinfo then refuses it), a
// static document renders the instance's base URL.
func TestUserinfoRevokeStatic(t *testing.T) {
	g := startYAML(t, "dialects:\n  oauth2: {}\n"+demoClients)
	if _, err := g.Admin.AddDialect(admin.DialectRequest{Spec: opsSpec, Prefix: "/p"}); err != nil {
		t.Fatal(err)
	}
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret"))}
	r := postForm(t, g.URL+"/p/ops/token", url.Values{"user": {"demo-user"}}, basic)
	tok, _ := r.json["access_token"].(string)
	if r.status != 200 || tok == "" {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	me := func() reply {
		return send(t, nil, http.MethodGet, g.URL+"/p/ops/me", "", "", map[string]string{"Authorization": "Bearer " + tok})
	}
	if r := me(); r.status != 200 || r.raw != `{"sub":"demo-user","email":"john.doe@example.com","name":"John Doe","client":"demo-client"}` {
		t.Fatalf("userinfo: %d %s", r.status, r.raw)
	}
	if r := send(t, nil, http.MethodGet, g.URL+"/p/ops/me", "", "", nil); r.status != 401 || r.json["error"] != "invalid_token" ||
		r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("userinfo without a token: %d %v %s", r.status, r.header, r.raw)
	}
	if r := postForm(t, g.URL+"/p/ops/revoke", url.Values{"token": {tok}}, basic); r.status != 200 || r.raw != `{"revoked":true}` {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := me(); r.status != 401 || r.json["error"] != "invalid_token" {
		t.Fatalf("userinfo after revoke: %d %s", r.status, r.raw)
	}
	r = send(t, nil, http.MethodGet, g.URL+"/p/ops/.well-known/openid-configuration", "", "", nil)
	if r.status != 200 || r.json["issuer"] != g.URL+"/p" || r.json["token_endpoint"] != g.URL+"/p/ops/token" {
		t.Fatalf("discovery: %d %s", r.status, r.raw)
	}
}
