package oauth2_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// oddID and oddSecret hold the characters that RFC 6749 §2.3.1's
// form-encoding changes: a client library that sends Basic credentials raw
// and one that form-encodes them send different headers for them.
const (
	oddID     = "app+1%"
	oddSecret = "p+q%2F:r s"
)

const oddConfig = `
dialects:
  oauth2: {}
clients:
  - client_id: "app+1%"
    client_secret: "p+q%2F:r s"
    grants: [client_credentials]
`

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// postToken sends a token request with the given Authorization header and
// form body, and returns status, headers and decoded body.
func postToken(t *testing.T, g *tokengatetest.Gateway, path, authorization string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return do(t, req)
}

// TestBasicCredentialsRawAndFormEncoded: a secret containing + % : and a
// space authenticates whether the client form-encodes the Basic parts (RFC
// 6749 §2.3.1, golang.org/x/oauth2) or sends them raw (RFC 7617:
// requests-oauthlib's HTTPBasicAuth, Authlib's client_secret_basic, curl
// -u); the debug log says which reading matched, never the secret.
func TestBasicCredentialsRawAndFormEncoded(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: oddConfig})
	cc := url.Values{"grant_type": {"client_credentials"}}
	for name, header := range map[string]string{
		"raw, as requests-oauthlib, Authlib and curl -u send it": basicHeader(oddID, oddSecret),
		"form-encoded, as RFC 6749 §2.3.1 asks":                  basicHeader(url.QueryEscape(oddID), url.QueryEscape(oddSecret)),
	} {
		if status, _, body := postToken(t, g, "/oauth2/token", header, cc); status != 200 {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		c := clientcredentials.Config{ClientID: oddID, ClientSecret: oddSecret, TokenURL: g.URL + "/oauth2/token", AuthStyle: style}
		if _, err := c.Token(context.Background()); err != nil {
			t.Errorf("golang.org/x/oauth2, auth style %d: %v", style, err)
		}
	}
	// Introspection and revocation take the same readings.
	status, _, body := postToken(t, g, "/oauth2/introspect", basicHeader(oddID, oddSecret), url.Values{"token": {"x"}})
	if status != 200 || body["active"] != false {
		t.Fatalf("introspect with raw Basic: %d %v", status, body)
	}
	// A wrong secret is wrong in both readings.
	if status, _, body := postToken(t, g, "/oauth2/token", basicHeader(oddID, "p q/:r s"), cc); status != 401 {
		t.Fatalf("wrong secret: %d %v", status, body)
	}
	logs := g.Logs.String()
	if !strings.Contains(logs, `"reading":"raw"`) || !strings.Contains(logs, `"reading":"form-decoded"`) {
		t.Fatalf("the debug log does not say which reading matched:\n%s", logs)
	}
	if strings.Contains(logs, oddSecret) || strings.Contains(logs, url.QueryEscape(oddSecret)) {
		t.Fatal("the secret reached the log")
	}
}

// TestClientAuthenticationFailures: RFC 6749 §5.2. No client authentication
// at all is 401 invalid_client; the Basic challenge, naming the error, goes
// only to a client that used Basic (openid-client reads a challenge as the
// answer and loses the body's error otherwise).
func TestClientAuthenticationFailures(t *testing.T) {
	g := start(t)
	cases := []struct {
		name, authorization string
		form                url.Values
		challenge           string
	}{
		{"no authentication", "", url.Values{"grant_type": {"client_credentials"}}, ""},
		{"client_id only", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"}}, ""},
		{"wrong secret in the body", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
			"client_secret": {"nope"}}, ""},
		{"wrong secret in Basic", basicHeader("demo-client", "nope"), url.Values{"grant_type": {"client_credentials"}},
			`Basic realm="tokengate", error="invalid_client"`},
	}
	for _, tc := range cases {
		for _, path := range []string{"/oauth2/token", "/oauth2/introspect"} {
			form := tc.form
			if path != "/oauth2/token" {
				form = url.Values{"token": {"x"}, "client_id": form["client_id"], "client_secret": form["client_secret"]}
			}
			status, hdr, body := postToken(t, g, path, tc.authorization, form)
			if status != 401 || body["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") != tc.challenge {
				t.Errorf("%s at %s: %d %v, WWW-Authenticate %q, want 401 invalid_client, %q", tc.name, path, status, body,
					hdr.Get("WWW-Authenticate"), tc.challenge)
			}
		}
	}
}

// TestAuthorizeWithoutRedirectURI: a client with one registered redirect
// URI may leave redirect_uri out of the authorize request; the code comes
// to that URI and the exchange does not need it (RFC 6749 §3.1.2.3,
// §4.1.3). golang.org/x/oauth2 with no RedirectURL sends neither.
func TestAuthorizeWithoutRedirectURI(t *testing.T) {
	g := start(t)
	conf := &oauth2.Config{ClientID: "demo-client", ClientSecret: "demo-secret",
		Endpoint: oauth2.Endpoint{AuthURL: g.URL + "/oauth2/authorize", TokenURL: g.URL + "/oauth2/token"}}
	verifier := oauth2.GenerateVerifier()
	loc := login(t, g, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "johndoe", "demo-password")
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "http://localhost:8081/callback" || loc.Query().Get("state") != "st" {
		t.Fatalf("redirected to %s", loc)
	}
	if _, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange without redirect_uri: %v", err)
	}
}

// TestDiscovery: RFC 8414. Without a prefix the metadata is at
// /.well-known/oauth-authorization-server; under prefix /std at
// /.well-known/oauth-authorization-server/std (§3, where openid-client,
// oauth4webapi and Authlib look) and at /std/.well-known/…; its issuer is
// byte for byte the URL the client derived the metadata URL from, built
// from the listener, never from the Host header. Only S256 is advertised.
func TestDiscovery(t *testing.T) {
	fetch := func(t *testing.T, g *tokengatetest.Gateway, method, path, host string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, g.URL+path, nil)
		if host != "" {
			req.Host = host
		}
		return do(t, req)
	}
	t.Run("no prefix", func(t *testing.T) {
		g := start(t)
		status, _, meta := fetch(t, g, "GET", "/.well-known/oauth-authorization-server", "evil.example")
		if status != 200 || meta["issuer"] != g.URL || meta["token_endpoint"] != g.URL+"/oauth2/token" {
			t.Fatalf("%d %v", status, meta)
		}
		if m, _ := meta["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
			t.Fatalf("code_challenge_methods_supported %v", meta["code_challenge_methods_supported"])
		}
	})
	t.Run("prefix", func(t *testing.T) {
		g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  std: {type: oauth2, prefix: /std}\n"})
		for _, path := range []string{"/.well-known/oauth-authorization-server/std", "/std/.well-known/oauth-authorization-server"} {
			status, _, meta := fetch(t, g, "GET", path, "evil.example")
			if status != 200 || meta["issuer"] != g.URL+"/std" || meta["token_endpoint"] != g.URL+"/std/oauth2/token" {
				t.Fatalf("%s: %d %v", path, status, meta)
			}
		}
		// The instance owns the path outside its prefix: a wrong method is its 405.
		status, hdr, body := fetch(t, g, "POST", "/.well-known/oauth-authorization-server/std", "")
		if status != 405 || body["error"] != "method_not_allowed" || hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("POST: %d %v", status, body)
		}
	})
	t.Run("configured issuer", func(t *testing.T) {
		g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {issuer: \"https://auth.example.com\"}\n"})
		if _, _, meta := fetch(t, g, "GET", "/.well-known/oauth-authorization-server", ""); meta["issuer"] != "https://auth.example.com" {
			t.Fatalf("issuer %v", meta["issuer"])
		}
	})
}

// TestHeadOnGetRoutes: HEAD on a GET route answers as GET without a body.
func TestHeadOnGetRoutes(t *testing.T) {
	g := start(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server",
		"/oauth2/authorize?client_id=demo-client&response_type=code"} {
		resp, err := http.Head(g.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		get, err := http.Get(g.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		get.Body.Close()
		if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Fatalf("HEAD %s: %d, %d body bytes, Content-Type %q (GET: %q)", path, resp.StatusCode, len(b),
				resp.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
		}
	}
}

// TestSemicolonSeparator: a ';' between parameters is refused with a
// description that says so, not "could not be parsed".
func TestSemicolonSeparator(t *testing.T) {
	g := start(t)
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials;scope=a"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	status, _, body := do(t, req)
	if d, _ := body["error_description"].(string); status != 400 || body["error"] != "invalid_request" || !strings.Contains(d, "';'") {
		t.Fatalf("%d %v", status, body)
	}
}
