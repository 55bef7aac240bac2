package wire_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// asCoreError fails unless err is a *core.Error of kind.
func asCoreError(t *testing.T, err error, kind core.Kind) *core.Error {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v is not a *core.Error", err, err)
	}
	if ce.Kind != kind {
		t.Fatalf("error kind %q, want %q: %v", ce.Kind, kind, ce)
	}
	return ce
}

// FuzzForm feeds arbitrary query strings and form bodies to
// wire.ParseParams and reads every parameter back with wire.Single and
// wire.Singles: never a panic; a refusal is invalid_request (naming a ';'
// separator as such); an accepted
// input agrees with url.ParseQuery, stays within the parameter bound, and
// every name is read back exactly or reported as a duplicate naming it.
func FuzzForm(f *testing.F) {
	f.Add("client_id=your_client_id&client_secret=your_client_secret")
	f.Add("grant_type=client_credentials&user_id=xxxx")
	f.Add("client_id=&client_secret=&grant_type=&refresh_token=&code=&userId=")
	f.Add("a=1&a=2")
	f.Add("%zz=1")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := wire.ParseParams(s)
		if err != nil {
			ce := asCoreError(t, err, core.KindInvalidRequest)
			if ce.Reason != core.ReasonMalformed && !(ce.Reason == core.ReasonSeparator && strings.Contains(s, ";")) {
				t.Fatalf("reason %q", ce.Reason)
			}
			return
		}
		if n := strings.Count(s, "&") + 1; n > wire.DefaultMaxParams {
			t.Fatalf("%d parameters accepted, bound is %d", n, wire.DefaultMaxParams)
		}
		ref, rerr := url.ParseQuery(s)
		if rerr != nil || len(ref) != len(v) {
			t.Fatalf("disagrees with url.ParseQuery: %v %v", ref, rerr)
		}
		names := make([]string, 0, len(v))
		dup := false
		for name, vals := range v {
			names = append(names, name)
			got, err := wire.Single(v, name)
			switch {
			case len(vals) == 1 && (err != nil || got != vals[0]):
				t.Fatalf("Single(%q) = %q, %v; want %q", name, got, err, vals[0])
			case len(vals) > 1:
				ce := asCoreError(t, err, core.KindInvalidRequest)
				if ce.Reason != core.ReasonDuplicate || ce.Param != name {
					t.Fatalf("Single(%q) of %d values: %v", name, len(vals), ce)
				}
				dup = true
			}
		}
		sort.Strings(names)
		m, err := wire.Singles(v, names...)
		if (err != nil) != dup {
			t.Fatalf("Singles: %v, duplicate %v", err, dup)
		}
		for _, n := range names {
			if err == nil && m[n] != v[n][0] {
				t.Fatalf("Singles[%q] = %q", n, m[n])
			}
		}
		if got, err := wire.Single(v, "\x00absent"); got != "" || err != nil {
			t.Fatalf("absent parameter: %q %v", got, err)
		}
	})
}

// FuzzJSONObject feeds arbitrary bodies to wire.ParseJSONObject and reads
// every key (and one fuzzed key) with wire.JSONString: never a panic; a
// refusal is invalid_request; an accepted body is valid JSON holding one
// object with at most DefaultMaxParams distinct keys, whose string values
// read back exactly and whose other values are refused naming the key.
func FuzzJSONObject(f *testing.F) {
	f.Add([]byte(`{"client_id": "demo-client", "client_secret": "demo-secret"}`), "client_id")
	f.Add([]byte(`{"client_id": 12345}`), "client_id")
	f.Add([]byte(`{"a": 1, "a": 2}`), "a")
	f.Add([]byte(`{} {}`), "")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		obj, err := wire.ParseJSONObject(body)
		if err != nil {
			ce := asCoreError(t, err, core.KindInvalidRequest)
			if ce.Reason != core.ReasonMalformed && ce.Reason != core.ReasonDuplicate {
				t.Fatalf("reason %q", ce.Reason)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(body, &ref); err != nil || len(ref) != len(obj) {
			t.Fatalf("disagrees with encoding/json: %d keys vs %d (%v)", len(obj), len(ref), err)
		}
		if len(obj) > wire.DefaultMaxParams {
			t.Fatalf("%d keys accepted, bound is %d", len(obj), wire.DefaultMaxParams)
		}
		for k, raw := range obj {
			if !json.Valid(raw) {
				t.Fatalf("value of %q is not JSON: %q", k, raw)
			}
			s, err := wire.JSONString(obj, k)
			var want string
			isString := json.Unmarshal(raw, &want) == nil
			switch {
			case string(raw) == "null":
				if s != "" || err != nil {
					t.Fatalf("null %q: %q %v", k, s, err)
				}
			case isString:
				if s != want || err != nil {
					t.Fatalf("string %q: %q %v, want %q", k, s, err, want)
				}
			default:
				ce := asCoreError(t, err, core.KindInvalidRequest)
				if ce.Param != k || len(ce.Value) > 64 {
					t.Fatalf("non-string %q: %+v", k, ce)
				}
			}
		}
		_, _ = wire.JSONString(obj, key)
	})
}

// FuzzBasicAuth feeds arbitrary Authorization headers to wire.BasicAuth
// (and their credentials part to wire.ParseBasic): never a panic; a
// malformed Basic header is invalid_client; other schemes are "no Basic
// credentials"; accepted credentials survive re-encoding.
func FuzzBasicAuth(f *testing.F) {
	f.Add("Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=")
	f.Add("Basic xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==")
	f.Add("Bearer <token>")
	f.Add("basic ZGVtby1jbGllbnQ6ZGVtbyUzQXNlY3JldA==")
	f.Fuzz(func(t *testing.T, header string) {
		e := echo.New()
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header["Authorization"] = []string{header}
		c := e.NewContext(req, httptest.NewRecorder())
		id, secret, ok, err := wire.BasicAuth(c)
		scheme, rest, found := strings.Cut(header, " ")
		isBasic := found && strings.EqualFold(scheme, "Basic")
		switch {
		case !isBasic:
			if ok || err != nil || id != "" || secret != "" {
				t.Fatalf("not a Basic header, yet %q %q %v %v", id, secret, ok, err)
			}
		case err != nil:
			ce := asCoreError(t, err, core.KindInvalidClient)
			if ce.Reason != core.ReasonMalformed || ok {
				t.Fatalf("malformed Basic: %+v ok=%v", ce, ok)
			}
		default:
			if !ok {
				t.Fatal("Basic credentials accepted without ok")
			}
			id2, secret2, err := wire.ParseBasic(strings.TrimSpace(rest))
			if err != nil || id2 != id || secret2 != secret {
				t.Fatalf("ParseBasic disagrees: %q %q %v", id2, secret2, err)
			}
			again := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
			id3, secret3, err := wire.ParseBasic(again)
			if err != nil || id3 != id || secret3 != secret {
				t.Fatalf("round trip of %q:%q gave %q:%q %v", id, secret, id3, secret3, err)
			}
		}
		_ = wire.BearerToken(c)
	})
}
