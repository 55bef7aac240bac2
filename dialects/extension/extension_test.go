// Package extension_test proves that a dialect outside this repository's
// dialect packages works end to end with one Register call: config check
// validates its options with exact key paths, it issues tokens through the
// engine, the journal redacts the secret it declares, and the journal and
// fault rules know it by its instance name.
package extension_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/wire"
)

func init() { dialects.Register("tiny", func() dialects.Dialect { return &tiny{} }) }

// tiny is a made-up vendor API: one token endpoint at a configured path,
// taking "app" and "passphrase" form fields, answering {"token"} or
// {"problem", "detail"}.
type tiny struct {
	inst dialects.Instance
	opts struct {
		Path     string          `yaml:"path"`
		Lifetime config.Duration `yaml:"lifetime"`
	}
	engine  *core.Engine
	profile *core.Profile
}

func (d *tiny) Configure(inst dialects.Instance) error {
	d.inst = inst
	var p config.Problems
	p.Merge(inst.Config.DecodeOptions(&d.opts))
	if !strings.HasPrefix(d.opts.Path, "/") {
		p.Add("path", "must start with /")
	}
	return p.Err()
}

func (d *tiny) Mount(r dialects.Router, deps dialects.Deps) error {
	d.engine = deps.Engine
	d.profile = &core.Profile{Dialect: d.inst.Name, Type: d.inst.Type, AccessTTL: time.Duration(d.opts.Lifetime)}
	r.Add(http.MethodPost, d.opts.Path, d.token)
	return nil
}

func (d *tiny) WireFacts() wire.Facts {
	return wire.Facts{ClientIDParams: []string{"app"}, SecretParams: []string{"passphrase"}}
}

func (d *tiny) token(c echo.Context) error {
	form, err := wire.Form(c)
	if err != nil {
		return err
	}
	wire.NoteClient(c, form.Get("app"), string(core.GrantClientCredentials))
	res, err := d.engine.Token(c.Request().Context(), d.profile, core.TokenRequest{GrantType: core.GrantClientCredentials,
		ClientID: form.Get("app"), ClientSecret: form.Get("passphrase")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"token": res.AccessToken})
}

func (d *tiny) Owns(path string) bool { return dialects.HasPathPrefix(path, d.opts.Path) }

func (d *tiny) Describe(_ echo.Context, e *core.Error) wire.Answer {
	return wire.Answer{Status: wire.Status(e), Code: string(e.Kind), Text: e.Description}
}

func (d *tiny) WriteError(c echo.Context, a wire.Answer) error {
	return c.JSON(a.Status, map[string]string{"problem": a.Code, "detail": a.Text})
}

func TestConfigCheckValidatesTheExtensionsOptions(t *testing.T) {
	for _, tc := range []struct {
		options string
		want    []string
	}{
		{"{path: /mini/token, lifetime: 5m}", nil},
		{"{path: /mini/token, pathh: /x, lifetime: soon}", []string{
			`dialects[mini].lifetime: invalid duration "soon": use Go syntax such as 90s, 15m or 2h`,
			"dialects[mini].pathh: unknown key"}},
		{"{}", []string{"dialects[mini].path: must start with /"}},
	} {
		doc := "dialects:\n  mini: " + strings.Replace(tc.options, "{", "{type: tiny, ", 1) + "\n"
		_, err := config.Parse([]byte(doc), dialects.Catalog())
		var ve *config.ValidationError
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.options, err)
		case tc.want != nil && (!errors.As(err, &ve) || !slices.Equal(ve.Problems, tc.want)):
			t.Errorf("%s: %v, want %q", tc.options, err, tc.want)
		}
	}
}

func TestExtensionServesThroughTheEngine(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: `
dialects:
  mini: {type: tiny, path: /mini/token, lifetime: 5m}
clients:
  - client_id: ci-client
    client_secret: ci-secret-value
    grants: [client_credentials]
`})
	post := func(form url.Values) (int, map[string]string) {
		t.Helper()
		resp, err := http.Post(g.URL+"/mini/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	creds := url.Values{"app": {"ci-client"}, "passphrase": {"ci-secret-value"}}
	status, body := post(creds)
	if status != 200 || body["token"] == "" {
		t.Fatalf("token: %d %v", status, body)
	}
	tok, err := g.App.Engine.Validate(t.Context(), nil, body["token"])
	if err != nil || tok.Dialect != "mini" || tok.ClientID != "ci-client" || !tok.ExpiresAt.Equal(tok.IssuedAt.Add(5*time.Minute)) {
		t.Fatalf("stored token %+v, %v", tok, err)
	}
	if status, body := post(url.Values{"app": {"ci-client"}, "passphrase": {"wrong"}}); status != 401 || body["problem"] != "invalid_client" {
		t.Fatalf("bad credentials: %d %v", status, body)
	}

	rule, err := g.Admin.AddFault(control.Rule{Dialect: "mini", ClientID: "ci-client", Status: 400, Code: "invalid_grant", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := post(creds); status != 400 || body["problem"] != "invalid_grant" {
		t.Fatalf("fault: %d %v", status, body)
	}

	entries, err := g.Admin.Requests(control.Filter{Dialect: "mini"})
	if err != nil || len(entries) != 3 {
		t.Fatalf("journal: %v %+v", err, entries)
	}
	fault, ok, first := entries[0], entries[1], entries[2]
	if fault.Fault != rule.ID || fault.Error != "invalid_grant" || fault.ClientID != "ci-client" || fault.Status != 400 {
		t.Errorf("fault entry %+v", fault)
	}
	if ok.Error != "invalid_client" || first.Status != 200 || first.Dialect != "mini" || first.ClientID != "ci-client" {
		t.Errorf("entries %+v %+v", ok, first)
	}
	for _, e := range entries {
		if !slices.Equal(e.Params["passphrase"], []string{control.Redacted}) || !slices.Equal(e.Params["app"], []string{"ci-client"}) {
			t.Errorf("params %v", e.Params)
		}
	}
	if strings.Contains(g.Logs.String(), "ci-secret-value") {
		t.Error("the passphrase reached the log")
	}
}
