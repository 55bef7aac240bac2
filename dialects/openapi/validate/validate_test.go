package validate_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/internal/openapitest"
)

// wrongDoc is the oauth2 instance's real document with edit applied.
func wrongDoc(t *testing.T, g *tokengatetest.Gateway, edit func(doc map[string]any)) []byte {
	t.Helper()
	raw, found, err := g.App.OpenAPI("oauth2", false)
	if err != nil || !found {
		t.Fatalf("the oauth2 document: %v %v", found, err)
	}
	return openapitest.Tampered(t, raw, edit)
}

// TestWrongDocumentsFail: the validator finds each way a description can
// be wrong about the behaviour, so the wire tests cannot pass with one.
func TestWrongDocumentsFail(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(doc map[string]any)
		send  func(t *testing.T, base string)
		wants string
	}{
		{"success body", func(doc map[string]any) {
			openapitest.At(doc, "components", "schemas", "TokenResponse", "properties", "token_type")["const"] = "MAC"
		}, clientCredentials, `response body doesn't match schema`},
		{"undocumented status", func(doc map[string]any) {
			responses := openapitest.At(doc, "paths", "/oauth2/token", "post", "responses")
			delete(responses, "401")
			delete(responses, "default")
		}, wrongSecret, "status is not supported"},
		{"error envelope", func(doc map[string]any) {
			openapitest.At(doc, "components", "schemas", "Error")["required"] = []any{"error", "error_uri"}
		}, wrongSecret, "error_uri"},
		{"accepted request", func(doc map[string]any) {
			openapitest.At(doc, "components", "schemas", "TokenRequest", "properties", "grant_type")["enum"] = []any{"authorization_code"}
		}, clientCredentials, "request: "},
		{"response header", func(doc map[string]any) {
			openapitest.At(doc, "components", "headers", "NoStore", "schema")["const"] = "private"
		}, clientCredentials, "Cache-Control"},
		{"missing route", func(doc map[string]any) {
			delete(openapitest.At(doc, "paths"), "/oauth2/token")
		}, clientCredentials, "is not in the document"},
		{"not OpenAPI 3.1", func(doc map[string]any) { doc["openapi"] = "3.0.3" }, clientCredentials, "not 3.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := tokengatetest.New(tokengatetest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			doc := wrongDoc(t, g, tc.edit)
			g.OpenAPI.SetDocs(func(string) ([]byte, error) { return doc, nil })
			tc.send(t, g.URL)
			failures := g.OpenAPI.Failures()
			if len(failures) == 0 || !strings.Contains(failures[0].String(), tc.wants) {
				t.Fatalf("failures %v, want one with %q", failures, tc.wants)
			}
		})
	}
}

// TestRightDocumentPasses: the same exchanges against the real document.
func TestRightDocumentPasses(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	clientCredentials(t, g.URL)
	wrongSecret(t, g.URL)
	if f := g.OpenAPI.Failures(); len(f) != 0 {
		t.Fatalf("failures: %v", f)
	}
}

func token(t *testing.T, base string, form url.Values, user, secret string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func clientCredentials(t *testing.T, base string) {
	if s := token(t, base, url.Values{"grant_type": {"client_credentials"}}, "demo-client", "demo-secret"); s != 200 {
		t.Fatalf("status %d", s)
	}
}

func wrongSecret(t *testing.T, base string) {
	if s := token(t, base, url.Values{"grant_type": {"client_credentials"}}, "demo-client", "wrong"); s != 401 {
		t.Fatalf("status %d", s)
	}
}
