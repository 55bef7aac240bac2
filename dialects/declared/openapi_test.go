package declared_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/internal/openapitest"
	"github.com/tokengate/tokengate/dialects/openapi/validate"
)

// TestTamperedDocumentsFail: with a generated document changed to disagree
// with the spec's behaviour, the same exchanges the vendor tests make fail
// validation; so those tests hold every exchange to the generated document.
func TestTamperedDocumentsFail(t *testing.T) {
	cases := []struct {
		name, instance string
		edit           func(doc map[string]any)
		send           func(t *testing.T, base string)
		wants          string
	}{
		{"success body", "slack", func(doc map[string]any) {
			ok := openapitest.At(doc, "paths", "/api/oauth.v2.access", "post", "responses", "200", "content", "application/json", "schema")
			success := ok["oneOf"].([]any)[0].(map[string]any)
			success["properties"].(map[string]any)["token_type"].(map[string]any)["const"] = "user"
		}, slackRefresh, "response body doesn't match"},
		{"HTTP 200 error", "github", func(doc map[string]any) {
			media := openapitest.At(doc, "paths", "/login/oauth/access_token", "post", "responses", "200", "content", "application/json")
			media["schema"] = media["schema"].(map[string]any)["oneOf"].([]any)[0]
		}, githubBadCode, "response body doesn't match"},
		{"error status", "microsoft", func(doc map[string]any) {
			responses := openapitest.At(doc, "paths", "/common/oauth2/v2.0/token", "post", "responses")
			delete(responses, "401")
			delete(responses, "default")
		}, microsoftWrongSecret, "status is not supported"},
		{"request schema", "microsoft", func(doc map[string]any) {
			schema := openapitest.At(doc, "paths", "/common/oauth2/v2.0/token", "post", "requestBody", "content",
				"application/x-www-form-urlencoded", "schema")
			schema["required"] = []any{"grant_type", "client_assertion"}
		}, microsoftClientCredentials, "request: "},
		{"header", "microsoft", func(doc map[string]any) {
			openapitest.At(doc, "paths", "/common/oauth2/v2.0/token", "post", "responses", "200", "headers", "Pragma", "schema")["const"] = "cache"
		}, microsoftClientCredentials, "Pragma"},
		{"token format", "microsoft", func(doc map[string]any) {
			openapitest.At(doc, "paths", "/common/oauth2/v2.0/token", "post", "responses", "200", "content", "application/json", "schema",
				"properties", "access_token")["pattern"] = "^gho_"
		}, microsoftClientCredentials, "access_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(vendorsConfig, dialects.Catalog())
			if err != nil {
				t.Fatal(err)
			}
			g, err := tokengatetest.New(tokengatetest.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			raw, found, err := g.App.OpenAPI(tc.instance, false)
			if err != nil || !found {
				t.Fatalf("the %s document: %v %v", tc.instance, found, err)
			}
			tampered := openapitest.Tampered(t, raw, tc.edit)
			g.OpenAPI.SetDocs(func(instance string) ([]byte, error) {
				if instance == tc.instance {
					return tampered, nil
				}
				doc, _, err := g.App.OpenAPI(instance, false)
				return doc, err
			})
			tc.send(t, g.URL)
			failures := g.OpenAPI.Failures()
			if len(failures) == 0 || !strings.Contains(failures[0].String(), tc.wants) {
				t.Fatalf("failures %v, want one with %q", failures, tc.wants)
			}
		})
	}
}

// TestUntamperedDocumentsPass: the same exchanges against the generated
// documents.
func TestUntamperedDocumentsPass(t *testing.T) {
	g := startVendors(t)
	for _, send := range []func(*testing.T, string){slackRefresh, githubBadCode, microsoftWrongSecret, microsoftClientCredentials} {
		send(t, g.URL)
	}
	if f := g.OpenAPI.Failures(); len(f) != 0 {
		t.Fatalf("failures: %v", f)
	}
}

func slackRefresh(t *testing.T, base string) {
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-client:demo-secret"))}
	code := login(t, base+"/oauth/v2/authorize?"+authorizeQuery("s"))
	if r := postForm(t, base+"/api/oauth.v2.access", url.Values{"code": {code}, "redirect_uri": {callback}}, basic); r.json["ok"] != true {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func githubBadCode(t *testing.T, base string) {
	r := postForm(t, base+"/login/oauth/access_token", url.Values{"client_id": {"demo-client"}, "client_secret": {"demo-secret"},
		"code": {"nope"}}, map[string]string{"Accept": "application/json"})
	if r.status != 200 || r.json["error"] != "bad_verification_code" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func microsoftWrongSecret(t *testing.T, base string) {
	r := postForm(t, base+"/common/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"nope"}, "scope": {"x"}}, nil)
	if r.status != 401 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func microsoftClientCredentials(t *testing.T, base string) {
	r := postForm(t, base+"/common/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "scope": {"x"}}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

// sinkSpec uses what the document generator must map: nested JSON inputs,
// a header input, mapped grant values with a default, grant-dependent
// inputs, a templated header, a nested body with optional keys, an array
// of constants, scopes as an array, a second status, a query input, form
// and JSON answers by Accept, an inactive answer, a text body, and an error
// envelope showing the parameter and the value sent.
const sinkSpec = `name: sink
base_path: /sink
tokens:
  access: {format: "sk_{hex:40}", lifetime: 1h}
  refresh: {format: "rt_{uuid}{hex:8}", lifetime: 24h}
  refresh_for: [authorization_code, refresh_token]
routes:
  - method: POST
    path: /sink/token
    operation: token
    request: {body: json}
    grant: {values: {cc: client_credentials, code: authorization_code, refresh: refresh_token}, default: client_credentials}
    inputs:
      client_id: {from: [header.X-Client-Id, json.client.id], required: true}
      client_secret: {from: json.client.secret, required: true}
      grant_type: json.kind
      code: {from: json.code, required: [authorization_code]}
      redirect_uri: json.redirect_uri
      refresh_token: {from: json.refresh_token, required: [refresh_token]}
      user_id: json.user
      scope: json.scope
    response:
      status: 201
      headers: {Cache-Control: no-store, X-Token-Type: "{token_type}"}
      body:
        data:
          token: "{access_token}"
          refresh: "{refresh_token?}"
          scopes: "{scope:array}"
          expires: "{expires_at:rfc3339}"
          user: "{user.id}"
        meta: [1, "two", true, null]
  - method: GET
    path: /sink/introspect
    operation: introspect
    inputs: {token: {from: query.token, required: true}}
    response:
      content_type: [json, form]
      body: {active: "{active}", client_id: "{client_id}", exp: "{expires_at}", name: "{user.name}"}
    inactive:
      body: {active: "{active}"}
  - path: /sink/ping
    operation: static
    response: {content_type: text, body: "pong {now:rfc3339}"}
errors:
  body: {error: "{code}", status: "{status}", detail: "{description}", param: "{param}", value: "{value}", id: "{error_id}"}
  rules:
    - when: {kind: invalid_request, reason: missing}
      status: 422
      code: missing
      text: "{param} is required"
    - when: {kind: invalid_client}
      status: 401
      code: who
  default: {status: 400, code: bad, text: Bad request.}
`

// TestEverySpecFeatureIsDescribed: exchanges using every part of sinkSpec
// validate against its generated document (tokengatetest fails the test
// otherwise), and the document says what the spec does.
func TestEverySpecFeatureIsDescribed(t *testing.T) {
	g := startYAML(t, "dialects:\n  oauth2: {}\n"+demoClients)
	if _, err := g.Admin.AddDialect(admin.DialectRequest{Spec: sinkSpec, Prefix: "/k"}); err != nil {
		t.Fatal(err)
	}
	base := g.URL + "/k/sink"
	post := func(body string, header map[string]string) reply {
		return send(t, nil, http.MethodPost, base+"/token", "application/json", body, header)
	}
	byHeader := map[string]string{"X-Client-Id": "demo-client"}
	for _, tc := range []struct {
		body   string
		header map[string]string
		status int
	}{
		{`{"client": {"secret": "demo-secret"}}`, byHeader, 201},
		{`{"client": {"id": "demo-client", "secret": "demo-secret"}, "kind": "cc", "scope": "read write", "user": "demo-user"}`, nil, 201},
		{`{"client": {"id": "demo-client"}}`, nil, 422},                              // no secret
		{`{"client": {"secret": "nope"}}`, byHeader, 401},                            // wrong secret
		{`{"client": {"secret": "demo-secret"}, "kind": "password"}`, byHeader, 400}, // the value is shown
		{`{"client": {"secret": "demo-secret"}, "kind": "refresh"}`, byHeader, 422},  // no refresh token
		{`{"client": {"id": "x", "secret": "demo-secret"}}`, byHeader, 400},          // two client ids
		{`{"client": {"secret": "demo-secret"}, "kind": 12}`, byHeader, 400},         // not a string
		{`[]`, byHeader, 400}, // not an object
	} {
		if r := post(tc.body, tc.header); r.status != tc.status {
			t.Fatalf("%s: %d %s", tc.body, r.status, r.raw)
		}
	}
	tok := post(`{"client": {"secret": "demo-secret"}}`, byHeader).json["data"].(map[string]any)["token"].(string)
	for _, accept := range []string{"", "application/x-www-form-urlencoded"} {
		r := send(t, nil, http.MethodGet, base+"/introspect?token="+tok, "", "", map[string]string{"Accept": accept})
		if r.status != 200 || !strings.Contains(r.raw, "true") {
			t.Fatalf("introspect (Accept %q): %d %s", accept, r.status, r.raw)
		}
	}
	if r := send(t, nil, http.MethodGet, base+"/introspect?token=nope", "", "", nil); r.raw != `{"active":false}` {
		t.Fatalf("inactive: %d %s", r.status, r.raw)
	}
	if r := send(t, nil, http.MethodGet, base+"/introspect", "", "", nil); r.status != 422 {
		t.Fatalf("no token: %d %s", r.status, r.raw)
	}
	if r := send(t, nil, http.MethodGet, base+"/ping", "", "", nil); r.status != 200 || !strings.HasPrefix(r.raw, "pong ") {
		t.Fatalf("ping: %d %s", r.status, r.raw)
	}
	for _, status := range []int{418, 422, 503} {
		if _, err := g.Admin.AddFault(control.Rule{Dialect: "sink", Status: status, Count: 1}); err != nil {
			t.Fatal(err)
		}
		if r := send(t, nil, http.MethodGet, base+"/ping", "", "", nil); r.status != status || r.json["status"] != float64(status) {
			t.Fatalf("fault %d: %d %s", status, r.status, r.raw)
		}
	}

	doc := fetchDoc(t, g, "sink")
	op := openapitest.At(doc, "paths", "/k/sink/token", "post")
	body := openapitest.At(op, "requestBody", "content", "application/json", "schema")
	client := openapitest.At(body, "properties", "client")
	if !equalJSON(body["required"], []string{"client"}) || client["type"] != "object" || !equalJSON(client["required"], []string{"secret"}) {
		t.Errorf("nested JSON inputs: %v", body)
	}
	if kind := openapitest.At(body, "properties", "kind"); !equalJSON(kind["enum"], []any{"cc", "code", "refresh", "", nil}) {
		t.Errorf("grant values: %v", kind)
	}
	if !strings.Contains(jsonText(body["allOf"]), `"then":{"properties":{"code":{"minLength":1}},"required":["code"]}`) {
		t.Errorf("grant-dependent inputs: %v", body["allOf"])
	}
	if p := op["parameters"].([]any)[0].(map[string]any); p["name"] != "X-Client-Id" || p["in"] != "header" || p["required"] != nil {
		t.Errorf("header input: %v", p)
	}
	created := openapitest.At(op, "responses", "201")
	data := openapitest.At(created, "content", "application/json", "schema", "properties", "data")
	if !equalJSON(data["required"], []string{"token", "scopes", "expires", "user"}) ||
		openapitest.At(data, "properties", "expires")["format"] != "date-time" || openapitest.At(data, "properties", "token")["pattern"] != `^sk_[0-9a-f]{40}$` ||
		!equalJSON(openapitest.At(data, "properties", "scopes")["type"], []string{"array", "null"}) ||
		!equalJSON(openapitest.At(created, "headers", "Cache-Control"), map[string]any{"required": true, "schema": map[string]any{"type": "string", "const": "no-store"}}) {
		t.Errorf("201: %s", jsonText(created))
	}
	introspect := openapitest.At(doc, "paths", "/k/sink/introspect", "get", "responses", "200", "content")
	if _, ok := introspect["application/x-www-form-urlencoded"]; !ok || !strings.Contains(jsonText(introspect), `"const":false`) {
		t.Errorf("introspection answers: %s", jsonText(introspect))
	}
	if openapitest.At(doc, "paths", "/k/sink/ping", "get", "responses", "200", "content", "text/plain", "schema")["type"] != "string" {
		t.Errorf("text body")
	}
}

// TestChecksAfterALenientOneAreNotInTheSchema: a spec answering repeated
// parameters with HTTP 200 gets no required fields (a request repeating
// one and missing another is answered 200), but keeps its strict content
// type, checked before.
func TestChecksAfterALenientOneAreNotInTheSchema(t *testing.T) {
	lenient := `name: soft
routes:
  - method: POST
    path: /soft/token
    operation: token
    grant: client_credentials
    inputs: {client_id: {from: form.client_id, required: true}, client_secret: {from: form.client_secret, required: true}}
    response: {body: {access_token: "{access_token}"}}
errors:
  body: {error: "{code}"}
  rules:
    - when: {reason: duplicate}
      status: 200
      code: repeated
  default: {status: 400, code: bad}
`
	g := startYAML(t, "dialects:\n  oauth2: {}\n"+demoClients)
	if _, err := g.Admin.AddDialect(admin.DialectRequest{Spec: lenient}); err != nil {
		t.Fatal(err)
	}
	r := send(t, nil, http.MethodPost, g.URL+"/soft/token", "application/x-www-form-urlencoded", "client_id=a&client_id=b", nil)
	if r.status != 200 || r.json["error"] != "repeated" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	body := openapitest.At(fetchDoc(t, g, "soft"), "paths", "/soft/token", "post", "requestBody")
	if body["required"] != false || openapitest.At(body, "content", "application/x-www-form-urlencoded", "schema")["required"] != nil {
		t.Errorf("required fields after a lenient check: %s", jsonText(body))
	}
	if _, ok := openapitest.At(body, "content")["*/*"]; ok {
		t.Errorf("the content type, checked first, is strict: %s", jsonText(body))
	}
}

// fetchDoc reads an instance's document from the admin API.
func fetchDoc(t *testing.T, g *tokengatetest.Gateway, instance string) map[string]any {
	t.Helper()
	r := send(t, nil, http.MethodGet, g.Admin.BaseURL+admin.Prefix+"/openapi/"+instance, "", "", map[string]string{"Authorization": "Bearer " + g.Admin.Token})
	if r.status != 200 {
		t.Fatalf("GET /_admin/openapi/%s: %d %s", instance, r.status, r.raw)
	}
	if _, err := validate.Parse([]byte(r.raw)); err != nil {
		t.Fatalf("%s: %v", instance, err)
	}
	return r.json
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func equalJSON(a, b any) bool { return jsonText(a) == jsonText(b) }
