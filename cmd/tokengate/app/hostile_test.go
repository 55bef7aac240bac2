package app_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/postgres"
)

// hostile are identifiers no record can have: NUL, invalid UTF-8, a
// control character, over core.MaxIdentifierBytes.
var hostile = map[string]string{"nul": "demo\x00client", "utf8": "demo\xff\xfeclient", "control": "demo\x1bclient",
	"long": strings.Repeat("d", 300)}

// hostileCalls sends every dialect, the login page and the admin API each
// hostile identifier where an identifier goes, and returns each call's
// status by name.
func hostileCalls(t *testing.T, g *tokengatetest.Gateway) map[string]int {
	t.Helper()
	out := map[string]int{}
	do := func(name string, req *http.Request, hc *http.Client) {
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out[name] = resp.StatusCode
	}
	form := func(path string, v url.Values) *http.Request {
		req, _ := http.NewRequest("POST", g.URL+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	adminReq := func(method, path, body string) *http.Request {
		req, _ := http.NewRequest(method, g.URL+"/_admin"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Admin.Token)
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	for kind, id := range hostile {
		jsonID, _ := json.Marshal(id) // invalid UTF-8 becomes U+FFFD: the admin API's JSON cannot carry it
		do("oauth2 client_id "+kind, form("/oauth2/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {id}, "client_secret": {"demo-secret"}}), nil)
		basic := form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
		basic.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":demo-secret")))
		do("oauth2 basic "+kind, basic, nil)
		do("oauth2 authorize "+kind, must(http.NewRequest("GET", g.URL+"/oauth2/authorize?"+url.Values{"client_id": {id},
			"redirect_uri": {"http://localhost:8081/callback"}, "response_type": {"code"}}.Encode(), nil)), nil)
		do("accounda client_id "+kind, form("/v1/token/", url.Values{"client_id": {id}, "client_secret": {"demo-secret"}}), nil)
		req, _ := http.NewRequest("POST", g.URL+"/v1/oauth/token", strings.NewReader(`{"client_id":`+string(jsonID)+`,"client_secret":"demo-secret"}`))
		req.Header.Set("Content-Type", "application/json")
		do("errorid client_id "+kind, req, nil)
		req, _ = http.NewRequest("POST", g.URL+"/api/v1/auth/oauth2/token?"+url.Values{"grant_type": {"client_credentials"},
			"user_id": {id}}.Encode(), nil)
		req.Header.Set("Accept", "application/json")
		req.SetBasicAuth("demo-client", "demo-secret")
		do("acceleration user_id "+kind, req, nil)
		do("hurdlr userId "+kind, form("/rest/v5/accountant/token", url.Values{"client_id": {"demo-client"},
			"client_secret": {"demo-secret"}, "grant_type": {"client_credentials"}, "userId": {id}}), nil)
		do("hurdlr client_id "+kind, form("/rest/v5/accountant/token", url.Values{"client_id": {id},
			"client_secret": {"demo-secret"}, "grant_type": {"client_credentials"}}), nil)

		// The login page: a genuine form, a hostile username.
		browser, q := loginForm(t, g.URL)
		q.Set("username", id)
		do("login username "+kind, form("/oauth2/authorize", q), browser)

		esc := url.PathEscape(id)
		do("admin get client "+kind, adminReq("GET", "/clients/"+esc, ""), nil)
		do("admin delete user "+kind, adminReq("DELETE", "/users/"+esc, ""), nil)
		do("admin revoke token "+kind, adminReq("DELETE", "/tokens/"+esc, ""), nil)
		do("admin tokens of client "+kind, adminReq("GET", "/tokens?"+url.Values{"client_id": {id}}.Encode(), ""), nil)
		do("admin revoke client tokens "+kind, adminReq("POST", "/tokens/revoke", `{"client_id":`+string(jsonID)+`}`), nil)
		do("admin create client "+kind, adminReq("POST", "/clients",
			`{"client_id":`+string(jsonID)+`,"client_secret":"s","grants":["client_credentials"]}`), nil)
		do("admin create user "+kind, adminReq("POST", "/users", `{"user_id":"u-`+kind+`","username":`+string(jsonID)+`}`), nil)
	}
	do("admin user with a NUL first name", adminReq("POST", "/users", `{"user_id":"u-nul","username":"nul","first_name":"A\u0000"}`), nil)
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Hostile identifiers get the same answer on SQLite and PostgreSQL, in
// every dialect, the login page and the admin API, and never a 5xx
// (PostgreSQL used to answer 500: SQLSTATE 22021).
func TestHostileIdentifiersSameOnBothBackends(t *testing.T) {
	sqlite := hostileCalls(t, tokengatetest.Start(t, tokengatetest.Options{DB: filepath.Join(t.TempDir(), "tg.db")}))
	pg := hostileCalls(t, tokengatetest.Start(t, tokengatetest.Options{DB: postgres.TestDSN(t)}))
	for name, st := range sqlite {
		if st >= 500 || pg[name] >= 500 || pg[name] != st {
			t.Errorf("%s: SQLite %d, PostgreSQL %d", name, st, pg[name])
		}
	}
	for name, want := range map[string]int{"oauth2 client_id nul": 401, "admin get client nul": 404,
		"admin create client nul": 400, "admin tokens of client utf8": 400, "admin user with a NUL first name": 400,
		"login username nul": 200, "hurdlr userId long": 400} {
		if sqlite[name] != want {
			t.Errorf("%s: %d, want %d", name, sqlite[name], want)
		}
	}
}

// A token stored with a time JSON cannot write (as an older build's clock
// could on PostgreSQL) does not make GET /_admin/tokens fail.
func TestTokenListingSurvivesAnyStoredTime(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{DB: postgres.TestDSN(t)})
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := g.App.Store.InsertTokens(t.Context(), &core.Token{Digest: core.Digest("far"), Kind: core.TokenAccess,
		ClientID: "demo-client", Dialect: "oauth2", IssuedAt: far, ExpiresAt: far, RevokedAt: far}); err != nil {
		t.Fatal(err)
	}
	list, err := g.Admin.Tokens(nil)
	if err != nil || len(list) != 1 {
		t.Fatalf("%d tokens, %v", len(list), err)
	}
}
