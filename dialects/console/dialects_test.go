package console

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// upload posts the dialect form as a browser does: multipart, the spec as
// a file (none when spec is nil).
func (s *server) upload(fields url.Values, spec []byte) (*http.Response, string) {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if spec != nil {
		part, _ := w.CreateFormFile("spec", "acme.yaml")
		_, _ = part.Write(spec)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+Prefix+"/dialects", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp, string(page)
}

func TestDeclaredDialectFromAnUploadedSpec(t *testing.T) {
	s := newServer(t)
	s.signIn()
	csrf := s.csrf(Prefix + "/dialects")
	form := url.Values{"csrf": {csrf}, "name": {"acme"}, "prefix": {"/acme"}}

	// Without its CSRF token the upload is refused before it is read.
	if resp, _ := s.upload(url.Values{"name": {"acme"}}, []byte("POST /token")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("upload without CSRF token: %d", resp.StatusCode)
	}
	// No file; a spec with problems, each shown with its path; too large.
	if resp, page := s.upload(form, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "choose a spec file") {
		t.Fatalf("no file: %d", resp.StatusCode)
	}
	resp, page := s.upload(form, []byte("POST /token\nnot a route"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "spec: routes[1]: not a route (line 2)") ||
		!strings.Contains(page, `value="/acme"`) {
		t.Fatalf("invalid spec: %d %s", resp.StatusCode, page)
	}
	if resp, _ := s.upload(form, bytes.Repeat([]byte("#"), maxFormBytes+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized spec: %d", resp.StatusCode)
	}
	if len(s.b.added) != 0 {
		t.Fatalf("a refused upload added %+v", s.b.added)
	}

	// Added: the page shows it with its routes and its spec.
	resp, _ = s.upload(form, []byte("POST /token"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != Prefix+"/dialects/acme" {
		t.Fatalf("upload: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(s.b.added) != 1 || s.b.added[0].Spec != "POST /token" || s.b.added[0].Prefix != "/acme" {
		t.Fatalf("added %+v", s.b.added)
	}
	if _, page := s.get(Prefix + "/dialects/acme"); !strings.Contains(page, "/acme/token") || !strings.Contains(page, "POST /token</code></pre>") {
		t.Fatalf("dialect page: %s", page)
	}
	// The list, the overview and the fault form offer it next to the config's.
	_, list := s.get(Prefix + "/dialects")
	if !strings.Contains(list, `data-dialect="hurdlr"`) || !strings.Contains(list, `data-dialect="acme"`) ||
		strings.Count(list, "Remove dialect") != 1 || !strings.Contains(list, `aria-label="Remove dialect acme"`) {
		t.Fatalf("dialect list: %s", list)
	}
	if _, page := s.get(Prefix + "/"); !strings.Contains(page, "/acme/token") {
		t.Fatal("the overview does not list the dialect added at run time")
	}
	if _, page := s.get(Prefix + "/faults"); !strings.Contains(page, `value="acme /acme/token"`) {
		t.Fatal("the fault form does not offer the run-time dialect's route")
	}

	// A config instance cannot be removed; the run-time one can.
	if resp, page := s.post(Prefix+"/dialects/hurdlr/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(page, "config file") {
		t.Fatalf("removing a config instance: %d", resp.StatusCode)
	}
	if resp, _ := s.post(Prefix+"/dialects/acme/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("removing: %d", resp.StatusCode)
	}
	if resp, _ := s.get(Prefix + "/dialects/acme"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a removed dialect's page: %d", resp.StatusCode)
	}
}

// The fault form offers every grant the engine knows, the extension
// grants by their short names.
func TestFaultFormOffersEveryGrant(t *testing.T) {
	s := newServer(t)
	s.signIn()
	_, page := s.get(Prefix + "/faults")
	for _, want := range []string{`<option value="client_credentials">client_credentials</option>`, `<option value="password">password</option>`,
		`<option value="urn:ietf:params:oauth:grant-type:device_code">device_code</option>`,
		`<option value="urn:ietf:params:oauth:grant-type:token-exchange">token_exchange</option>`,
		`<option value="urn:ietf:params:oauth:grant-type:jwt-bearer">jwt_bearer</option>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the fault form lacks %s", want)
		}
	}
}

// A request's detail names its request id and the family the engine
// reported, and the journal narrows to one family.
func TestRequestDetailAndFamilyFilter(t *testing.T) {
	s := newServer(t)
	s.b.requests = []Request{
		{ID: "r2", RequestID: "req-two", Dialect: "hurdlr", Status: 400, Family: FamilyRef{"demo-client", "F"}, Reuse: true},
		{ID: "r1", RequestID: "req-one", Dialect: "hurdlr", Status: 200, Family: FamilyRef{"demo-client", "G"}},
	}
	s.signIn()
	_, page := s.get(Prefix + "/journal/r2")
	for _, want := range []string{"<code>req-two</code>", `href="/_admin/ui/families/demo-client/F"`, "reuse detected"} {
		if !strings.Contains(page, want) {
			t.Errorf("request detail lacks %s", want)
		}
	}
	_, page = s.get(Prefix + "/journal?family=F")
	if !strings.Contains(page, `href="/_admin/ui/journal/r2"`) || strings.Contains(page, `href="/_admin/ui/journal/r1"`) {
		t.Fatalf("the family filter: %s", page)
	}
}
