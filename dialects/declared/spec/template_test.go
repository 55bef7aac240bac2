package spec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// compileBody compiles a body written in YAML, failing on any problem.
func compileBody(t *testing.T, src string, s scope) *Template {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	r := &reader{}
	tmpl := r.compile(doc.Content[0], "body", s, "a test body")
	if err := r.err(); err != nil {
		t.Fatalf("compile:\n%v", err)
	}
	return tmpl
}

var (
	issued = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	values = Values{
		AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", ExpiresIn: 3600,
		IssuedAt: issued, ExpiresAt: issued.Add(time.Hour), Scopes: []string{"repo", "gist"},
		ClientID: "demo-client", Now: issued,
		User: &core.User{ID: "u1", Username: "ada", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"},
	}
)

func renderJSON(t *testing.T, src string, s scope, v Values) string {
	t.Helper()
	return string(compileBody(t, src, s).AppendJSON(nil, &v))
}

// TestKeyOrderAndTypes: keys keep the declared order (not sorted), nested
// objects and arrays render, constants and placeholders keep their types.
func TestKeyOrderAndTypes(t *testing.T) {
	got := renderJSON(t, `
ok: true
zeta: "{access_token}"
alpha: "{expires_in}"
created_at: "{created_at}"
team: {name: Softball, id: T9, size: 12, ratio: 0.5, nothing: null}
scopes: "{scope:array}"
list: [1, "two", "{client_id}", {nested: "{user.email}"}]
`, inToken, values)
	want := `{"ok":true,"zeta":"at-1","alpha":3600,"created_at":1772366400,` +
		`"team":{"name":"Softball","id":"T9","size":12,"ratio":0.5,"nothing":null},` +
		`"scopes":["repo","gist"],"list":[1,"two","demo-client",{"nested":"ada@example.com"}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var decoded map[string]any
	if err := json.Unmarshal([]byte(got), &decoded); err != nil {
		t.Fatal(err)
	}
	if _, ok := decoded["alpha"].(float64); !ok {
		t.Errorf("expires_in is %T, want a JSON number", decoded["alpha"])
	}
}

// TestAbsentValues: an empty value renders null; "{name?}" leaves its key
// out wherever it stands, and the object stays valid JSON.
func TestAbsentValues(t *testing.T) {
	noUser := values
	noUser.User, noUser.UserID, noUser.RefreshToken = nil, "", ""
	cases := []struct{ name, src, want string }{
		{"null", `{a: "{refresh_token}", b: "{user.email}"}`, `{"a":null,"b":null}`},
		{"optional first", `{r: "{refresh_token?}", a: 1}`, `{"a":1}`},
		{"optional middle", `{a: 1, r: "{refresh_token?}", b: 2}`, `{"a":1,"b":2}`},
		{"optional last", `{a: 1, r: "{refresh_token?}"}`, `{"a":1}`},
		{"all optional", `{r: "{refresh_token?}", u: "{user.id?}"}`, `{}`},
		{"nested", `{o: {r: "{refresh_token?}", p: {u: "{user.id?}"}}, z: 0}`, `{"o":{"p":{}},"z":0}`},
		{"present", `{a: "{access_token?}", r: "{refresh_token?}"}`, `{"a":"at-1"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := renderJSON(t, tc.src, inToken, noUser)
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
	// {user.id} falls back to the bare user id when no user was loaded.
	v := noUser
	v.UserID = "u2"
	if got := renderJSON(t, `{id: "{user.id}", name: "{user.name}"}`, inToken, v); got != `{"id":"u2","name":null}` {
		t.Errorf("got %s", got)
	}
}

// TestInterpolation: placeholders inside a string render as text and the
// whole string is escaped once, never concatenated into JSON.
func TestInterpolation(t *testing.T) {
	v := values
	v.AccessToken = `a"b<c>` + "\n"
	got := renderJSON(t, `{h: "Bearer {access_token} for {client_id}", braces: "{{literal}}", n: "{expires_in}s"}`, inToken, v)
	want := `{"h":"Bearer a\"b<c>\n for demo-client","braces":"{literal}","n":"3600s"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestJSONStringsMatchEncodingJSON: strings are escaped exactly as the Go
// dialects' bodies are (encoding/json without HTML escaping, wire.JSON).
func TestJSONStringsMatchEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "<script>&", "tab\tnl\ncr\r", "\x00\x1f\x7f",
		"ünïcödé ✓", "\u2028\u2029", "bad \xff utf8", "emoji 🎉"} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func TestTimeAndScopeFormats(t *testing.T) {
	got := renderJSON(t, `
a: "{expires_at}"
b: "{expires_at:unix_ms}"
c: "{expires_at:rfc3339}"
d: "{timestamp:2006-01-02 15:04:05Z}"
e: "{scope}"
f: "{scope:comma}"
g: "{scope:array}"
`, inToken, values)
	want := `{"a":1772370000,"b":1772370000000,"c":"2026-03-01T13:00:00Z","d":"2026-03-01 12:00:00Z",` +
		`"e":"repo gist","f":"repo,gist","g":["repo","gist"]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	empty := Values{}
	if got := renderJSON(t, `{a: "{expires_at:rfc3339}", s: "{scope:array}"}`, inToken, empty); got != `{"a":null,"s":null}` {
		t.Errorf("zero values: got %s", got)
	}
	// Times are rendered in UTC whatever their location.
	v := values
	v.Now = issued.In(time.FixedZone("X", 5*3600))
	if got := renderJSON(t, `{t: "{now:rfc3339}"}`, inToken, v); got != `{"t":"2026-03-01T12:00:00Z"}` {
		t.Errorf("got %s", got)
	}
}

// TestMergeKeys: "<<: *anchor" puts the anchor's keys in its place; a key
// the mapping also sets keeps that place with the new value.
func TestMergeKeys(t *testing.T) {
	got := renderJSON(t, `
base: &b {error: "{code}", text: "fixed", uri: x}
merged:
  first: 1
  <<: *b
  text: "{description}"
  last: 2
`, inError, Values{answer: &Answer{Code: "c", Description: "d"}})
	want := `{"base":{"error":"c","text":"fixed","uri":"x"},"merged":{"first":1,"error":"c","text":"d","uri":"x","last":2}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFormEncoding(t *testing.T) {
	tmpl := compileBody(t, `
access_token: "{access_token}"
scope: "{scope:comma}"
token_type: bearer
refresh_token: "{refresh_token}"
expires_in: "{expires_in}"
flag: true
count: 0x10
gone: null
note: "for {client_id} & co"
`, inToken)
	if !tmpl.flat {
		t.Fatal("a flat body is not form-encodable")
	}
	v := values
	v.RefreshToken = ""
	got := string(tmpl.AppendForm(nil, &v))
	want := "access_token=at-1&scope=repo%2Cgist&token_type=bearer&expires_in=3600&flag=true&count=16&note=for+demo-client+%26+co"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// The JSON form of the same body agrees on the constants.
	if got := string(tmpl.AppendJSON(nil, &v)); !strings.Contains(got, `"count":16`) || !strings.Contains(got, `"gone":null`) {
		t.Errorf("JSON %s", got)
	}
}

func TestNegotiate(t *testing.T) {
	formJSON := []Format{FormatForm, FormatJSON}
	cases := []struct {
		accept string
		want   Format
	}{
		{"", FormatForm},
		{"application/json", FormatJSON},
		{"Application/JSON; charset=utf-8", FormatJSON},
		{"text/html", FormatForm},
		{"*/*", FormatForm},
		{"*/*, application/json", FormatJSON},
		{"application/json;q=0.5, application/x-www-form-urlencoded", FormatForm},
		{"application/x-www-form-urlencoded;q=0.1, application/json;q=0.9", FormatJSON},
		{"application/json;q=0", FormatForm},
		{"application/xml", FormatForm},
	}
	for _, tc := range cases {
		if got := Negotiate(formJSON, tc.accept); got != tc.want {
			t.Errorf("Accept %q: got %s, want %s", tc.accept, got, tc.want)
		}
	}
	if got := Negotiate([]Format{FormatJSON}, "application/x-www-form-urlencoded"); got != FormatJSON {
		t.Errorf("a single format is always used, got %s", got)
	}
}

// TestResponseRender: status, templated headers, and the body in the
// format Accept chooses.
func TestResponseRender(t *testing.T) {
	var doc yaml.Node
	src := `
status: 201
content_type: [form, json]
headers: {Cache-Control: no-store, X-Client: "{client_id}", X-Empty: "{refresh_token}"}
body: {access_token: "{access_token}", token_type: bearer}
`
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	r := &reader{}
	resp := r.response(doc.Content[0], "response", inToken, "a token response")
	if err := r.err(); err != nil {
		t.Fatal(err)
	}
	v := values
	v.RefreshToken = ""
	var out Output
	resp.Render(&out, "", &v)
	if out.Status != 201 || out.ContentType != "application/x-www-form-urlencoded" ||
		string(out.Body) != "access_token=at-1&token_type=bearer" {
		t.Fatalf("default: %+v %s", out, out.Body)
	}
	wantHeaders := []Header{{"Cache-Control", "no-store"}, {"X-Client", "demo-client"}}
	if len(out.Header) != 2 || out.Header[0] != wantHeaders[0] || out.Header[1] != wantHeaders[1] {
		t.Errorf("headers %v, want %v (an empty value leaves its header out)", out.Header, wantHeaders)
	}
	resp.Render(&out, "application/json", &v)
	if out.ContentType != "application/json" || string(out.Body) != `{"access_token":"at-1","token_type":"bearer"}` {
		t.Fatalf("json: %+v %s", out, out.Body)
	}
}

// TestUsesUser: only bodies showing user fields beyond the id need the
// user record loaded.
func TestUsesUser(t *testing.T) {
	if compileBody(t, `{id: "{user.id}", t: "{access_token}"}`, inToken).UsesUser() {
		t.Error("the user id is in the grant's result; no user record needed")
	}
	if !compileBody(t, `{u: {email: "{user.email}"}}`, inToken).UsesUser() {
		t.Error("user.email needs the user record")
	}
	var none *Template
	if none.UsesUser() {
		t.Error("no body, no user")
	}
}
