package spec

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/tokengate/tokengate/core"
)

func route(t testing.TB, s *Spec, op Operation) *Route {
	t.Helper()
	for _, rt := range s.Routes {
		if rt.Operation == op {
			return rt
		}
	}
	t.Fatalf("%s has no %s route", s.Name, op)
	return nil
}

// parseWithErrors parses a spec named demo from body plus a minimal
// errors section.
func parseWithErrors(t *testing.T, body string) *Spec {
	t.Helper()
	s, err := Parse([]byte("name: demo\n" + body + "errors:\n  body: {error: \"{code}\"}\n  default: {status: 500, code: server_error}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonBody(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantError checks err is a *core.Error of kind/reason naming param.
func wantError(t *testing.T, err error, kind core.Kind, reason core.Reason, param, desc string) {
	t.Helper()
	e, ok := err.(*core.Error)
	if !ok {
		t.Fatalf("error %v (%T), want %s/%s", err, err, kind, reason)
	}
	if e.Kind != kind || e.Reason != reason || e.Param != param || (desc != "" && e.Description != desc) {
		t.Fatalf("error %s/%s param %q %q, want %s/%s param %q %q", e.Kind, e.Reason, e.Param, e.Description, kind, reason, param, desc)
	}
}

// TestErrorIDInputs: both spellings of each property, null as missing,
// empty and non-string values invalid, a grant other than client
// credentials refused, as the Go dialect reads them.
func TestErrorIDInputs(t *testing.T) {
	rt := route(t, loadSpec(t, "../testdata/errorid.yaml"), OpToken)
	cases := []struct {
		name, body string
		kind       core.Kind
		reason     core.Reason
		param      string
		desc       string
	}{
		{"both id spellings", `{"client_id":"a","clientId":"a","client_secret":"s"}`, core.KindInvalidRequest, core.ReasonDuplicate, "client_id",
			"client_id and clientId are the same property; send only one"},
		{"missing id", `{"client_secret":"s"}`, core.KindInvalidRequest, core.ReasonMissing, "client_id", "missing required parameter: client_id"},
		{"null id names the null key", `{"clientId":null,"clientSecret":"s"}`, core.KindInvalidRequest, core.ReasonMissing, "clientId", ""},
		{"empty id", `{"client_id":"","client_secret":"s"}`, core.KindInvalidRequest, core.ReasonMalformed, "client_id", "client_id must not be empty"},
		{"numeric id", `{"client_id":12345,"client_secret":"s"}`, core.KindInvalidRequest, core.ReasonMalformed, "client_id", "client_id must be a string"},
		{"missing secret", `{"clientId":"a"}`, core.KindInvalidRequest, core.ReasonMissing, "client_secret", ""},
		{"object secret", `{"client_id":"a","clientSecret":{"x":1}}`, core.KindInvalidRequest, core.ReasonMalformed, "clientSecret", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in Inputs
			err := rt.Extract(&Request{JSON: jsonBody(t, tc.body)}, &in)
			wantError(t, err, tc.kind, tc.reason, tc.param, tc.desc)
		})
	}
	var in Inputs
	err := rt.Extract(&Request{JSON: jsonBody(t, `{"clientId":"a","client_secret":"s","grant_type":"password"}`)}, &in)
	wantError(t, err, core.KindUnsupportedGrantType, "", "grant_type", "unsupported grant_type")
	if err := rt.Extract(&Request{JSON: jsonBody(t, `{"clientId":"a","client_secret":"s","grant_type":"client_credentials"}`)}, &in); err != nil {
		t.Fatal(err)
	}
	req := in.TokenRequest()
	if req.GrantType != core.GrantClientCredentials || req.ClientID != "a" || req.ClientSecret != "s" {
		t.Errorf("request %+v", req)
	}
	// On an error the client id read so far is kept (for the journal).
	_ = rt.Extract(&Request{JSON: jsonBody(t, `{"client_id":"a"}`)}, &in)
	if in.ClientID != "a" {
		t.Errorf("client id after a later error: %q", in.ClientID)
	}
}

func TestHurdlrInputs(t *testing.T) {
	rt := route(t, loadSpec(t, "../testdata/hurdlr.yaml"), OpToken)
	form := func(s string) *Request {
		v, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return &Request{Form: v}
	}
	var in Inputs
	err := rt.Extract(form("zeta=1&zeta=2&code=a&code=b&grant_type=client_credentials"), &in)
	wantError(t, err, core.KindInvalidRequest, core.ReasonDuplicate, "code", "") // first in sorted order, even an unknown field
	err = rt.Extract(form("client_id=c&client_secret=s"), &in)
	wantError(t, err, core.KindInvalidRequest, core.ReasonMissing, "grant_type", "")
	err = rt.Extract(form("grant_type=password&client_id=c"), &in)
	wantError(t, err, core.KindUnsupportedGrantType, core.ReasonNone, "grant_type", "")
	err = rt.Extract(form("grant_type=client_credentials&client_id=c&client_secret=s&userId="), &in)
	wantError(t, err, core.KindInvalidRequest, core.ReasonMissing, "userId", "missing required parameter: userId")

	// The vendor's curl sends every field; empty ones are absent, and
	// fields of other grants are dropped.
	err = rt.Extract(form("client_id=c&client_secret=s&grant_type=refresh_token&refresh_token=rt&code=&userId=u1"), &in)
	if err != nil {
		t.Fatal(err)
	}
	req := in.TokenRequest()
	if req.GrantType != core.GrantRefreshToken || req.RefreshToken != "rt" || req.UserID != "" || req.Code != "" || req.Scopes != nil {
		t.Errorf("refresh request %+v", req)
	}
	if err := rt.Extract(form("client_id=c&client_secret=s&grant_type=client_credentials&userId=u1&code=x"), &in); err != nil {
		t.Fatal(err)
	}
	if req := in.TokenRequest(); req.UserID != "u1" || req.Code != "" {
		t.Errorf("client_credentials request %+v", req)
	}
}

// TestSlackCredentials: Basic or the body, not two different ones.
func TestSlackCredentials(t *testing.T) {
	rt := route(t, loadSpec(t, "../../../docs/examples/slack.yaml"), OpToken)
	cases := []struct {
		name  string
		form  string
		basic *BasicCredentials
		ok    bool
	}{
		{"basic", "code=c1", &BasicCredentials{ID: "app", Secret: "s"}, true},
		{"body", "code=c1&client_id=app&client_secret=s", nil, true},
		{"same in both", "code=c1&client_id=app", &BasicCredentials{ID: "app", Secret: "s"}, true},
		{"different", "code=c1&client_id=other", &BasicCredentials{ID: "app", Secret: "s"}, false},
	}
	for _, tc := range cases {
		v, _ := url.ParseQuery(tc.form)
		var in Inputs
		err := rt.Extract(&Request{Form: v, Basic: tc.basic}, &in)
		if tc.ok {
			req := in.TokenRequest()
			if err != nil || req.ClientID != "app" || req.ClientSecret != "s" || req.Code != "c1" || req.GrantType != core.GrantAuthorizationCode {
				t.Errorf("%s: %v %+v", tc.name, err, req)
			}
			continue
		}
		wantError(t, err, core.KindInvalidRequest, core.ReasonDuplicate, "", "use one client authentication method, not several")
	}
	var in Inputs
	err := rt.Extract(&Request{Form: url.Values{"grant_type": {"refresh_token"}}, Basic: &BasicCredentials{ID: "app", Secret: "s"}}, &in)
	wantError(t, err, core.KindInvalidRequest, core.ReasonMissing, "refresh_token", "")
}

func TestGitHubQueryAndBody(t *testing.T) {
	rt := route(t, loadSpec(t, "../../../docs/examples/github.yaml"), OpToken)
	var in Inputs
	q := url.Values{"client_id": {"app"}, "client_secret": {"s"}, "code": {"c1"}}
	if err := rt.Extract(&Request{Query: q, Form: url.Values{}}, &in); err != nil || in.Code != "c1" {
		t.Fatalf("query only: %v %+v", err, in)
	}
	err := rt.Extract(&Request{Query: q, Form: url.Values{"code": {"c2"}}}, &in)
	wantError(t, err, core.KindInvalidRequest, core.ReasonDuplicate, "code", "parameter sent more than once: code")
}

// TestOtherSources: headers, bearer tokens, nested JSON and scopes, on
// routes declared inline.
func TestOtherSources(t *testing.T) {
	s := parseWithErrors(t, `tokens:
  access: {format: jwt, jwt: {claims: {jti: "{jti}"}}}
routes:
  - method: POST
    path: /token
    operation: token
    grant: client_credentials
    inputs:
      client_id: header.x-client-id
      client_secret: json.auth.secret
      scope: json.scope
    response: {body: {access_token: "{access_token}"}}
  - path: /me
    operation: userinfo
    inputs: {token: bearer}
    response: {body: {id: "{user.id}"}}
  - path: /keys
    operation: jwks
`)
	tok := s.Routes[0]
	var in Inputs
	req := &Request{Header: http.Header{"X-Client-Id": {"app"}}, JSON: jsonBody(t, `{"auth":{"secret":"s"},"scope":"a b"}`)}
	if err := tok.Extract(req, &in); err != nil || in.ClientID != "app" || in.ClientSecret != "s" || len(in.Scopes) != 2 {
		t.Fatalf("%v %+v", err, in)
	}
	req.Header.Add("X-Client-Id", "again")
	wantError(t, tok.Extract(req, &in), core.KindInvalidRequest, core.ReasonDuplicate, "X-Client-Id", "")

	me := s.Routes[1]
	if err := me.Extract(&Request{Header: http.Header{"Authorization": {"Bearer tok-1"}}}, &in); err != nil {
		t.Fatal(err)
	}
	if in.Token != "tok-1" {
		t.Errorf("token %q", in.Token)
	}
	if s.Routes[2].Response == nil || s.Routes[2].Response.Body == nil {
		t.Fatal("a jwks route gets the default {keys} body")
	}
	var out Output
	s.Routes[2].Response.Render(&out, "", &Values{Keys: []byte(`[{"kty":"RSA"}]`)})
	if string(out.Body) != `{"keys":[{"kty":"RSA"}]}` {
		t.Errorf("jwks body %s", out.Body)
	}
	if got := s.ClientIDParams(); len(got) != 0 {
		t.Errorf("client id params %v (a header is not a parameter)", got)
	}
	if got := s.ClientIDHeaders(); len(got) != 1 || got[0] != "X-Client-Id" || s.ClientIDBasic() {
		t.Errorf("client id headers %v, basic %v", got, s.ClientIDBasic())
	}
}

func TestRequiredBearer(t *testing.T) {
	s := parseWithErrors(t, `routes:
  - path: /me
    operation: userinfo
    inputs: {token: {from: bearer, required: true}}
    response: {body: {id: "{user.id}"}}
`)
	var in Inputs
	err := s.Routes[0].Extract(&Request{Header: http.Header{"Authorization": {"Basic eA=="}}}, &in)
	wantError(t, err, core.KindInvalidToken, core.ReasonMissing, "Authorization", "missing bearer token")
}

// TestWireFacts: what the control plane learns of a spec's wire.
func TestWireFacts(t *testing.T) {
	s := loadSpec(t, "../testdata/errorid.yaml")
	if got := s.ClientIDParams(); len(got) != 2 || got[0] != "client_id" || got[1] != "clientId" {
		t.Errorf("client id params %v", got)
	}
	if got := s.SecretParams(); len(got) != 2 || got[0] != "client_secret" || got[1] != "clientSecret" {
		t.Errorf("secret params %v", got)
	}
	if !loadSpec(t, "../../../docs/examples/slack.yaml").ClientIDBasic() || s.ClientIDBasic() {
		t.Error("Slack reads Basic, errorId does not")
	}
	h := loadSpec(t, "../testdata/hurdlr.yaml")
	if got := h.GrantParams(); len(got) != 1 || got[0] != "grant_type" {
		t.Errorf("grant params %v", got)
	}
	if got := route(t, h, OpToken).WireName(InputUserID); got != "userId" {
		t.Errorf("wire name of user_id: %q", got)
	}
	if !h.Owns("/rest/v5/accountant/nope") || !h.Owns("/rest/v5/accountant") || h.Owns("/rest/v5/accountants") {
		t.Error("Owns")
	}
}
