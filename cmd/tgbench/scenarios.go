package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The demo credentials of config/default.yaml.
const (
	demoClient    = "demo-client"
	demoSecret    = "demo-secret"
	demoUserID    = "demo-user"
	demoUsername  = "johndoe"
	demoPassword  = "demo-password"
	demoAuthID    = "1"
	demoAuthToken = "demo-auth-token"
	demoRedirect  = "http://localhost:8081/callback"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

var basicDemo = "Basic " + base64.StdEncoding.EncodeToString([]byte(demoClient+":"+demoSecret))

// tokensPerWorker is the size of each connection's pool of tokens issued
// before the window for the read-path scenarios; requests cycle through it.
const tokensPerWorker = 8

// scenario is one named load. prepare runs once per connection before the
// warm-up (issuing tokens for the read paths) and returns the iteration.
type scenario struct {
	name    string
	about   string
	prepare func(ctx context.Context, w *worker) (op, error)
}

// ceilingScenario is oauth2_cc's request sent to the ceiling server.
var ceilingScenario = scenario{name: "ceiling", about: "oauth2_cc's request against the bare echo handler",
	prepare: simple(oauth2CC)}

// scenarios are the gateway scenarios, in the order they run.
var scenarios = []scenario{
	{"oauth2_cc", "POST /oauth2/token, Basic auth, grant_type=client_credentials (opaque token)", simple(oauth2CC)},
	{"accounda_token", "POST /v1/token/ form client_id, client_secret", simple(accoundaToken)},
	{"errorid_token", "POST /v1/oauth/token JSON client_id, client_secret", simple(erroridToken)},
	{"declared_token", "errorid_token's request to the errorId API declared in a spec (-declared-spec), under /declared", simple(declaredToken)},
	{"hurdlr_cc", "POST /rest/v5/accountant/token grant_type=client_credentials&userId=demo-user", simple(hurdlrCC)},
	{"hurdlr_refresh", "POST /rest/v5/accountant/token grant_type=refresh_token, each rotating the previous one (a chain per connection)", prepareHurdlrRefresh},
	{"acceleration_jwt", "POST /api/v1/auth/oauth2/token?grant_type=client_credentials&user_id=demo-user, Basic auth (RS256 JWT)", simple(accelerationJWT)},
	{"accounda_validate", "GET /v1/user/validate/?auth_id=1&user_data=1 with Bearer, Client-ID, Auth-Token over tokens issued before the window", prepareAccoundaValidate},
	{"oauth2_introspect", "POST /oauth2/introspect, Basic auth, token=… over tokens issued before the window (active:true required)", prepareIntrospect},
	{"authorization_code", "one flow per iteration: GET /oauth2/authorize (login page), POST the form (303 with code), POST /oauth2/token code exchange with PKCE S256", simple(authorizationCode)},
	{"mixed", "80 % validation (accounda_validate, oauth2_introspect in equal parts), 20 % issuance (oauth2_cc, accounda_token in equal parts)", prepareMixed},
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// simple adapts a stateless request function.
func simple(f func(ctx context.Context, w *worker) error) func(context.Context, *worker) (op, error) {
	return func(_ context.Context, w *worker) (op, error) {
		return func(ctx context.Context) error { return f(ctx, w) }, nil
	}
}

// The issuance scenarios check the status only; the *Issue and *Token
// variants also read the token out of the body, for the read paths.

func oauth2CC(ctx context.Context, w *worker) error {
	req, err := w.request(ctx, http.MethodPost, "/oauth2/token", formType, "grant_type=client_credentials")
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", basicDemo)
	_, err = w.do(req, 0)
	return err
}

// oauth2Token issues an opaque oauth2 access token.
func oauth2Token(ctx context.Context, w *worker) (string, error) {
	if err := oauth2CC(ctx, w); err != nil {
		return "", err
	}
	return w.accessToken()
}

func accoundaToken(ctx context.Context, w *worker) error {
	req, err := w.request(ctx, http.MethodPost, "/v1/token/", formType,
		"client_id="+demoClient+"&client_secret="+demoSecret)
	if err != nil {
		return err
	}
	_, err = w.do(req, 0)
	return err
}

func accoundaIssue(ctx context.Context, w *worker) (string, error) {
	if err := accoundaToken(ctx, w); err != nil {
		return "", err
	}
	return w.accessToken()
}

var erroridBody = `{"client_id":"` + demoClient + `","client_secret":"` + demoSecret + `"}`

func erroridToken(ctx context.Context, w *worker) error { return erroridAt(ctx, w, "") }

// declaredPrefix is where the declared errorId instance is mounted.
const declaredPrefix = "/declared"

func declaredToken(ctx context.Context, w *worker) error { return erroridAt(ctx, w, declaredPrefix) }

// erroridAt posts errorId's token request under prefix.
func erroridAt(ctx context.Context, w *worker, prefix string) error {
	req, err := w.request(ctx, http.MethodPost, prefix+"/v1/oauth/token", jsonType, erroridBody)
	if err != nil {
		return err
	}
	_, err = w.do(req, 0)
	return err
}

const hurdlrCreds = "client_id=" + demoClient + "&client_secret=" + demoSecret

func hurdlrCC(ctx context.Context, w *worker) error {
	req, err := w.request(ctx, http.MethodPost, "/rest/v5/accountant/token", formType,
		hurdlrCreds+"&grant_type=client_credentials&userId="+demoUserID)
	if err != nil {
		return err
	}
	_, err = w.do(req, 0)
	return err
}

// hurdlrIssue runs client_credentials and returns the refresh token.
func hurdlrIssue(ctx context.Context, w *worker) (string, error) {
	if err := hurdlrCC(ctx, w); err != nil {
		return "", err
	}
	return w.refreshToken()
}

// prepareHurdlrRefresh starts one refresh chain per connection; every
// iteration rotates the chain's current refresh token. A failed rotation
// restarts the chain with client_credentials inside the next iteration.
func prepareHurdlrRefresh(ctx context.Context, w *worker) (op, error) {
	rt, err := hurdlrIssue(ctx, w)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if rt == "" {
			if rt, err = hurdlrIssue(ctx, w); err != nil {
				return err
			}
		}
		req, err := w.request(ctx, http.MethodPost, "/rest/v5/accountant/token", formType,
			hurdlrCreds+"&grant_type=refresh_token&refresh_token="+url.QueryEscape(rt))
		if err != nil {
			return err
		}
		if _, err := w.do(req, 0); err != nil {
			rt = ""
			return err
		}
		rt, err = w.refreshToken()
		return err
	}, nil
}

const accelerationPath = "/api/v1/auth/oauth2/token?grant_type=client_credentials&user_id=" + demoUserID

func accelerationJWT(ctx context.Context, w *worker) error {
	req, err := w.request(ctx, http.MethodPost, accelerationPath, "", "")
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", basicDemo)
	_, err = w.do(req, 0)
	return err
}

// issuePool issues tokensPerWorker tokens with issue.
func issuePool(ctx context.Context, w *worker, issue func(context.Context, *worker) (string, error)) ([]string, error) {
	pool := make([]string, tokensPerWorker)
	for i := range pool {
		t, err := issue(ctx, w)
		if err != nil {
			return nil, fmt.Errorf("issuing tokens before the window: %w", err)
		}
		pool[i] = t
	}
	return pool, nil
}

func accoundaValidate(ctx context.Context, w *worker, token string) error {
	req, err := w.request(ctx, http.MethodGet, "/v1/user/validate/?auth_id="+demoAuthID+"&user_data=1", "", "")
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Client-ID", demoClient)
	req.Header.Set("Auth-Token", demoAuthToken)
	_, err = w.do(req, 0)
	return err
}

func prepareAccoundaValidate(ctx context.Context, w *worker) (op, error) {
	pool, err := issuePool(ctx, w, accoundaIssue)
	if err != nil {
		return nil, err
	}
	n := 0
	return func(ctx context.Context) error {
		n++
		return accoundaValidate(ctx, w, pool[n%len(pool)])
	}, nil
}

var activeTrue = []byte(`"active":true`)

func introspect(ctx context.Context, w *worker, token string) error {
	req, err := w.request(ctx, http.MethodPost, "/oauth2/introspect", formType, "token="+url.QueryEscape(token))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", basicDemo)
	if _, err := w.do(req, 0); err != nil {
		return err
	}
	if !bytes.Contains(w.buf.Bytes(), activeTrue) {
		return fmt.Errorf("introspection of a live token is not active: %s", w.buf.String())
	}
	return nil
}

func prepareIntrospect(ctx context.Context, w *worker) (op, error) {
	pool, err := issuePool(ctx, w, oauth2Token)
	if err != nil {
		return nil, err
	}
	n := 0
	return func(ctx context.Context) error {
		n++
		return introspect(ctx, w, pool[n%len(pool)])
	}, nil
}

// prepareMixed draws each iteration: 40 % accounda_validate, 40 %
// oauth2_introspect (over pools issued before the window), 10 % oauth2_cc,
// 10 % accounda_token.
func prepareMixed(ctx context.Context, w *worker) (op, error) {
	accounda, err := issuePool(ctx, w, accoundaIssue)
	if err != nil {
		return nil, err
	}
	oauth, err := issuePool(ctx, w, oauth2Token)
	if err != nil {
		return nil, err
	}
	n := 0
	return func(ctx context.Context) error {
		n++
		switch r := w.rng.IntN(10); {
		case r < 4:
			return accoundaValidate(ctx, w, accounda[n%len(accounda)])
		case r < 8:
			return introspect(ctx, w, oauth[n%len(oauth)])
		case r < 9:
			return oauth2CC(ctx, w)
		default:
			return accoundaToken(ctx, w)
		}
	}, nil
}

// authorizationCode is one browser login and code exchange: GET the login
// page (which sets the tg_csrf cookie and carries the csrf_token), POST the
// form (expecting 303 to the redirect_uri with a code), then exchange the
// code with its PKCE verifier at the token endpoint.
func authorizationCode(ctx context.Context, w *worker) error {
	var vb [32]byte
	rand.Read(vb[:])
	verifier := base64.RawURLEncoding.EncodeToString(vb[:])
	sum := sha256.Sum256([]byte(verifier))
	state := fmt.Sprintf("s%d-%d", w.id, w.rng.Uint64())
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {demoClient},
		"redirect_uri":          {demoRedirect},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	req, err := w.request(ctx, http.MethodGet, "/oauth2/authorize?"+q.Encode(), "", "")
	if err != nil {
		return err
	}
	resp, err := w.do(req, http.StatusOK)
	if err != nil {
		return fmt.Errorf("login page: %w", err)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "tg_csrf" {
			cookie = c
		}
	}
	csrf := hiddenValue(w.buf.Bytes(), "csrf_token")
	if cookie == nil || csrf == "" {
		return errors.New("login page: no tg_csrf cookie or csrf_token field")
	}

	form := url.Values{"csrf_token": {csrf}, "username": {demoUsername}, "password": {demoPassword}, "decision": {"allow"}}
	for k, v := range q {
		form[k] = v
	}
	req, err = w.request(ctx, http.MethodPost, "/oauth2/authorize", formType, form.Encode())
	if err != nil {
		return err
	}
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	resp, err = w.do(req, http.StatusSeeOther)
	if err != nil {
		return fmt.Errorf("login POST: %w", err)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return fmt.Errorf("login POST: bad Location: %w", err)
	}
	lq := loc.Query()
	code := lq.Get("code")
	if code == "" || lq.Get("state") != state {
		return fmt.Errorf("login POST: redirect without code or with the wrong state: %s", loc)
	}

	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {demoRedirect},
		"code_verifier": {verifier}}
	req, err = w.request(ctx, http.MethodPost, "/oauth2/token", formType, body.Encode())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", basicDemo)
	if _, err := w.do(req, 0); err != nil {
		return fmt.Errorf("code exchange: %w", err)
	}
	return nil
}

// hiddenValue finds <input type="hidden" name="NAME" value="..."> in page.
func hiddenValue(page []byte, name string) string {
	marker := []byte(`name="` + name + `" value="`)
	i := bytes.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i+len(marker):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// tokenFields is the part of a token response the harness reads.
type tokenFields struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (w *worker) tokenFields() (tokenFields, error) {
	var f tokenFields
	if err := json.Unmarshal(w.buf.Bytes(), &f); err != nil {
		return f, fmt.Errorf("token response is not JSON: %w: %s", err, strings.TrimSpace(w.buf.String()))
	}
	return f, nil
}

func (w *worker) accessToken() (string, error) {
	f, err := w.tokenFields()
	if err == nil && f.AccessToken == "" {
		err = fmt.Errorf("token response without access_token: %s", w.buf.String())
	}
	return f.AccessToken, err
}

func (w *worker) refreshToken() (string, error) {
	f, err := w.tokenFields()
	if err == nil && f.RefreshToken == "" {
		err = fmt.Errorf("token response without refresh_token: %s", w.buf.String())
	}
	return f.RefreshToken, err
}
