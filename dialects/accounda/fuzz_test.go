package accounda_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects"
	_ "github.com/tokengate/tokengate/dialects/accounda"
)

// fuzzPaths are the routes a fuzz input's route number picks from.
var fuzzPaths = []string{"/v1/token/", "/v1/token/refresh/", "/v1/user/validate/", "/v1/user/information/", "/v1/user/other"}

// fixedMessages are all the error texts the dialect may send with a fixed
// wording; dynamicMessage matches the rest. An error body outside both
// would mean something else (such as caller input) was echoed.
var fixedMessages = map[string]bool{
	msgMissingCreds: true, msgInvalidCreds: true, msgHeaders: true, msgInvalidToken: true, msgExpiredToken: true,
	msgInvalidClient: true, msgInvalidAuth: true, msgInvalidAuthID: true, msgAppExpired: true, msgMissingAccess: true,
	msgGrant: true, msgNeedsUserData: true, msgBadUserData: true, msgContentType: true, msgMalformed: true,
	msgTooLarge: true, msgNotFound: true, msgMethodNotAllow: true, "Invalid request": true,
}

var dynamicMessage = regexp.MustCompile(`^(Duplicate parameter: (client_id|client_secret|access_token|auth_id|user_data|google|microsoft|discord|github)` +
	`|Invalid value for (google|microsoft|discord|github): use 1 \(optional\) or 8 \(required\)` +
	`|Required linked account missing: (google|microsoft|discord|github)(, (microsoft|discord|github))*)$`)

// FuzzAccounda feeds arbitrary routes, methods, queries, bodies and headers
// through the whole gateway in process. "{token}" in authorization or body is
// replaced by a live demo-client access token so inputs reach past the token
// check. Every answer must be below 500 and either a success shape or
// exactly {"error": <a known message>}.
func FuzzAccounda(f *testing.F) {
	g := tokengatetest.Start(f, tokengatetest.Options{YAML: testConfig("")})
	h := g.App.Gateway.Handler()
	// fresh mints a live demo-client token: a refresh in one input must not
	// kill the token of the next.
	fresh := func(t testing.TB) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/token/", strings.NewReader("client_id=demo-client&client_secret=demo-secret"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
			t.Fatalf("no token: %d %s", rec.Code, rec.Body.String())
		}
		return tr.AccessToken
	}
	fresh(f)

	// The seed corpus (testdata/fuzz/FuzzAccounda) holds Accounda's sample
	// requests, verbatim and with real values.
	f.Fuzz(func(t *testing.T, route int, method, query, contentType, body, authorization, clientID, authToken string) {
		if route < 0 {
			route = -route
		}
		path := fuzzPaths[route%len(fuzzPaths)]
		switch method {
		case "GET", "POST", "PUT", "DELETE", "PATCH":
		default:
			method = "GET"
		}
		if strings.Contains(body+authorization, "{token}") {
			tok := fresh(t)
			body = strings.ReplaceAll(body, "{token}", tok)
			authorization = strings.ReplaceAll(authorization, "{token}", tok)
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.URL.RawQuery = query
		set := func(k, v string) {
			if v != "" {
				req.Header[k] = []string{v}
			}
		}
		set("Content-Type", contentType)
		set("Authorization", authorization)
		set("Client-Id", clientID)
		set("Auth-Token", authToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body.String())
		}
		if rec.Code == http.StatusOK {
			_, at := m["access_token"]
			_, tt := m["token_type"]
			_, ei := m["expires_in"]
			_, data := m["data"]
			if !(len(m) == 3 && at && tt && ei) && !(len(m) == 1 && data) {
				t.Fatalf("200 body of unexpected shape: %s", rec.Body.String())
			}
			return
		}
		msg, ok := m["error"].(string)
		if len(m) != 1 || !ok {
			t.Fatalf("error body not {\"error\": string}: %s", rec.Body.String())
		}
		if !fixedMessages[msg] && !dynamicMessage.MatchString(msg) {
			t.Fatalf("unknown error message %q", msg)
		}
	})
}

type recordingRouter struct{ routes []string }

func (r *recordingRouter) Add(method, path string, _ echo.HandlerFunc) {
	r.routes = append(r.routes, method+" "+path)
}

func TestMount(t *testing.T) {
	d, err := dialects.Lookup("accounda")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Configure(dialects.Instance{Name: "accounda", Type: "accounda"}); err != nil {
		t.Fatal(err)
	}
	r := &recordingRouter{}
	if err := d.Mount(r, dialects.Deps{}); err != nil {
		t.Fatal(err)
	}
	want := "POST /v1/token/,POST /v1/token/refresh/,GET /v1/user/validate/,GET /v1/user/information/"
	if got := strings.Join(r.routes, ","); got != want {
		t.Errorf("routes %s, want %s", got, want)
	}
	bad := dialects.Instance{Name: "accounda", Type: "accounda", Config: config.DialectConfig{Options: map[string]any{"refresh": false}}}
	if err := d.Configure(bad); err == nil || err.Error() != "refresh: unknown key" {
		t.Errorf("unknown option: err %v, want an error naming it", err)
	}
	for path, want := range map[string]bool{
		"/v1/token": true, "/v1/token/": true, "/v1/token/x/y": true, "/v1/user": true, "/v1/user/validate/": true,
		"/v1/tokens": false, "/v1/users/": false, "/v1": false, "/oauth2/token": false, "/": false,
	} {
		if got := d.Owns(path); got != want {
			t.Errorf("Owns(%q) = %v, want %v", path, got, want)
		}
	}
}
