package declared_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
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

// TestRefreshWithoutRotation: with rotate_refresh: false a refresh token is
// used again and again (the answer repeats it), each time for a new access
// token; with the default it is rotated and a reuse revokes the family.
func TestRefreshWithoutRotation(t *testing.T) {
	g := startYAML(t, "dialects:\n  oauth2: {}\n"+demoClients)
	spec := `name: keep
tokens: {refresh_for: [client_credentials, refresh_token], rotate_refresh: false}
routes:
  - method: POST
    path: /keep/token
    operation: token
    grant: {values: [client_credentials, refresh_token]}
    inputs: {client_id: form.client_id, client_secret: form.client_secret, grant_type: form.grant_type, refresh_token: form.refresh_token}
    response: {body: {access_token: "{access_token}", refresh_token: "{refresh_token}"}}
errors: {body: {error: "{code}"}, default: {status: 400, code: bad}}
`
	for _, rotate := range []bool{false, true} {
		text := spec
		if rotate {
			text = strings.Replace(strings.Replace(spec, "rotate_refresh: false", "rotate_refresh: true", 1), "name: keep", "name: rotate", 1)
			text = strings.ReplaceAll(text, "/keep/", "/rotate/")
		}
		d, err := g.Admin.AddDialect(admin.DialectRequest{Spec: text})
		if err != nil {
			t.Fatal(err)
		}
		tokenURL := g.URL + "/" + d.Name + "/token"
		creds := url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"}}
		first := postForm(t, tokenURL, with(creds, "grant_type", "client_credentials"), nil)
		rt, _ := first.json["refresh_token"].(string)
		seen := map[string]bool{first.json["access_token"].(string): true}
		for i := range 2 {
			r := postForm(t, tokenURL, with(with(creds, "grant_type", "refresh_token"), "refresh_token", rt), nil)
			switch {
			case !rotate && (r.status != 200 || r.json["refresh_token"] != rt || seen[r.json["access_token"].(string)]):
				t.Fatalf("without rotation, refresh %d: %d %s", i, r.status, r.raw)
			case rotate && i == 0 && (r.status != 200 || r.json["refresh_token"] == rt):
				t.Fatalf("with rotation: %d %s", r.status, r.raw)
			case rotate && i == 1 && (r.status != 400 || r.json["error"] != "bad"):
				t.Fatalf("a rotated-out refresh token was accepted: %d %s", r.status, r.raw)
			}
			if r.status == 200 {
				seen[r.json["access_token"].(string)] = true
			}
		}
	}
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = vv
	}
	out.Set(k, val)
	return out
}
