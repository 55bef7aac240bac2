package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/core"
)

func TestMain(m *testing.M) {
	core.SetKDFCost(bcrypt.MinCost) // the tests hash many fixture secrets
	os.Exit(m.Run())
}

// testTypes stands in for the dialect registry, which config cannot import.
var testTypes = []string{"acceleration", "accounda", "errorid", "hurdlr", "oauth2"}

// catalog knows testTypes; problems, when set, is what CheckDialects says
// about the config.
type catalog struct {
	problems func(*Config) []string
}

func (catalog) Types() []string { return testTypes }

func (catalog) DefaultTypes() []string { return testTypes }

func (c catalog) CheckDialects(cfg *Config) []string {
	if c.problems == nil {
		return nil
	}
	return c.problems(cfg)
}

var cat catalog

func TestDefaultHasDemoValues(t *testing.T) {
	c, err := Default(cat)
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"log_level", c.LogLevel, "info"},
		{"admin_token", c.AdminToken, "demo-admin-token"},
		{"admin_listen", c.AdminListen, ""},
		{"storage", c.Storage, Storage{Driver: "sqlite", DSN: "tokengate.db"}},
		{"limits", c.Limits, Limits{MaxBodyBytes: 1048576, MaxHeaderBytes: 65536, MaxParams: 100,
			ReadHeaderTimeout: Duration(5 * time.Second), ReadTimeout: Duration(15 * time.Second),
			WriteTimeout: Duration(15 * time.Second), IdleTimeout: Duration(time.Minute),
			AuthFailures: AuthFailures{Burst: 20, PerMinute: 10}}},
		{"journal_size", c.JournalSize, 1000},
		{"sweep_interval", c.SweepInterval, Duration(time.Minute)},
		{"enabled dialects", c.EnabledDialects(), testTypes},
		{"clients", len(c.Clients), 2},
		{"client_id", c.Clients[0].ClientID, "demo-client"},
		{"client_secret", c.Clients[0].ClientSecret, "demo-secret"},
		{"grants", c.Clients[0].Grants, []string{"client_credentials", "refresh_token", "authorization_code", "password",
			"device_code", "token_exchange", "jwt_bearer"}},
		{"public client", []any{c.Clients[1].ClientID, c.Clients[1].ClientSecret, c.Clients[1].TokenEndpointAuthMethod,
			c.Clients[1].RedirectURIs, c.Clients[1].Dialects},
			[]any{"demo-public", "", "none", []string{"http://localhost:8081/callback"}, []string{"oauth2"}}},
		{"redirect_uris", c.Clients[0].RedirectURIs, []string{"http://localhost:8081/callback"}},
		{"users", len(c.Users), 1},
		{"user", c.Users[0].UserID + " " + c.Users[0].Username + " " + c.Users[0].FirstName + " " + c.Users[0].LastName + " " + c.Users[0].Email,
			"demo-user johndoe John Doe john.doe@example.com"},
		{"password", c.Users[0].Password, "demo-password"},
		{"google", c.Users[0].LinkedAccounts["google"], LinkedAccount{ID: "1122334455", Username: "john_google",
			FirstName: "John", LastName: "Doe", Email: "google.johndoe@example.com"}},
		{"microsoft", c.Users[0].LinkedAccounts["microsoft"], LinkedAccount{ID: "0987654321", Username: "john_microsoft",
			FirstName: "John", LastName: "Doe", Email: "microsoft.johndoe@example.com"}},
		{"discord", c.Users[0].LinkedAccounts["discord"], LinkedAccount{ID: "1234567890", Username: "john_discord",
			Locale: "en-US", Email: "discord.johndoe@example.com"}},
		{"github", c.Users[0].LinkedAccounts["github"], LinkedAccount{ID: "3254567890", Name: "John Github",
			Email: "github.johndoe@example.com"}},
		{"authorizations", c.Authorizations, []Authorization{{AuthID: 1, AuthToken: "demo-auth-token", UserID: "demo-user", ClientID: "demo-client"}}},
		{"demo credentials", c.UsesDemoCredentials(), true},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestDefaultSurvivesMarshalRoundTrip(t *testing.T) {
	c, err := Default(cat)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(data, cat)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(c, c2) {
		t.Errorf("round trip changed the config:\n%#v\n%#v", c, c2)
	}
}

func TestOmittedFieldsGetDefaults(t *testing.T) {
	c, err := Parse([]byte("admin_token: t\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen: DefaultListen, LogLevel: "info", LogFormat: "auto", AdminToken: "t",
		Storage: Storage{Driver: "sqlite", DSN: "tokengate.db"},
		Limits: Limits{MaxBodyBytes: DefaultMaxBodyBytes, MaxHeaderBytes: DefaultMaxHeaderBytes, MaxParams: DefaultMaxParams,
			ReadHeaderTimeout: Duration(DefaultReadHeaderTimeout), ReadTimeout: Duration(DefaultReadTimeout),
			WriteTimeout: Duration(DefaultWriteTimeout), IdleTimeout: Duration(DefaultIdleTimeout),
			AuthFailures: AuthFailures{Burst: DefaultAuthFailureBurst, PerMinute: DefaultAuthFailuresPerMinute}},
		JournalSize: DefaultJournalSize, JournalMaxBytes: DefaultJournalMaxBytes, SweepInterval: Duration(DefaultSweepInterval),
		Dialects: map[string]DialectConfig{"oauth2": {}, "accounda": {}, "errorid": {}, "acceleration": {}, "hurdlr": {}},
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("got  %+v\nwant %+v", *c, want)
	}
	if c.UsesDemoCredentials() {
		t.Error("UsesDemoCredentials with no demo values")
	}
}

func TestDialectSelection(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"absent: all", "", testTypes},
		{"named ones only", "dialects: {oauth2: {prefix: /o}, hurdlr: {}}", []string{"hurdlr", "oauth2"}},
		{"one type twice", "dialects: {std-b: {type: oauth2, prefix: /b}, std-a: {type: oauth2, prefix: /a}}", []string{"std-a", "std-b"}},
		{"enabled false", "dialects: {oauth2: {}, errorid: {enabled: false}}", []string{"oauth2"}},
		{"enabled true", "dialects: {errorid: {enabled: true}}", []string{"errorid"}},
		{"empty map: none", "dialects: {}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), cat)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.EnabledDialects(); !slices.Equal(got, tt.want) {
				t.Errorf("EnabledDialects = %v, want %v", got, tt.want)
			}
		})
	}
}

// valid is a small correct configuration the problem cases edit.
const valid = `
listen: "127.0.0.1:8080"
log_level: info
admin_token: secret-admin
dialects:
  oauth2: {}
  errorid: {prefix: /errorid, working_hours: "Mon-Fri 08:00-18:00"}
clients:
  - client_id: a
    client_secret: s
    grants: [client_credentials]
  - client_id: b
    client_secret: s
    grants: [authorization_code, refresh_token]
    redirect_uris: ["https://app.example/cb"]
    dialects: [oauth2, errorid]
users:
  - user_id: u
    username: john
authorizations:
  - auth_id: 1
    auth_token: t
    user_id: u
    client_id: b
`

func TestValidBaseParses(t *testing.T) {
	if _, err := Parse([]byte(valid), cat); err != nil {
		t.Fatalf("the base of the problem cases is invalid: %v", err)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old (must occur) by new in valid
		want     []string
	}{
		{"missing client_id", "- client_id: a\n    client_secret: s\n", "- client_secret: s\n",
			[]string{"clients[0].client_id: is required"}},
		{"bad grant", "grants: [client_credentials]", "grants: [implicit]",
			[]string{`clients[0].grants[0]: unknown grant "implicit" (known: client_credentials, refresh_token, authorization_code, password, ` +
				`urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange, ` +
				`urn:ietf:params:oauth:grant-type:jwt-bearer, and the short names device_code, token_exchange, jwt_bearer)`}},
		{"relative redirect URI", `redirect_uris: ["https://app.example/cb"]`, `redirect_uris: ["/cb"]`,
			[]string{"clients[1].redirect_uris[0]: must be an absolute URL"}},
		{"redirect URI with fragment", `redirect_uris: ["https://app.example/cb"]`, `redirect_uris: ["https://app.example/cb#x"]`,
			[]string{"clients[1].redirect_uris[0]: must not contain a #fragment"}},
		{"code grant without redirect URI", `    redirect_uris: ["https://app.example/cb"]` + "\n", "",
			[]string{"clients[1].redirect_uris: is required for the authorization_code grant"}},
		{"unknown dialect in client", "dialects: [oauth2, errorid]", "dialects: [oauth2, errorld]",
			[]string{`clients[1].dialects[1]: unknown dialect "errorld" (known: acceleration, accounda, errorid, hurdlr, oauth2)`}},
		{"client names an instance or a type", "dialects: [oauth2, errorid]", "dialects: [std, hurdlr]",
			[]string{`clients[1].dialects[0]: unknown dialect "std" (known: acceleration, accounda, errorid, hurdlr, oauth2)`}},
		{"unknown dialect key", "  oauth2: {}\n", "  oauth3: {}\n",
			[]string{`dialects[oauth3]: unknown dialect type "oauth3" (known: acceleration, accounda, errorid, hurdlr, oauth2)`}},
		{"unknown dialect type", "  oauth2: {}\n", "  std: {type: oauth3}\n",
			[]string{`dialects[std].type: unknown dialect type "oauth3" (known: acceleration, accounda, errorid, hurdlr, oauth2)`}},
		{"bad instance name", "  oauth2: {}\n", "  oauth2: {}\n  \"std a\": {type: oauth2}\n",
			[]string{`dialects[std a]: "std a" is not a dialect name (letters, digits, '.', '_' and '-')`}},
		{"duplicate client_id", "- client_id: b", "- client_id: a",
			[]string{`authorizations[0].client_id: names no client "b"`, `clients[1].client_id: "a" is already used by clients[0]`}},
		{"authorization names missing client", "    client_id: b\n", "    client_id: x\n",
			[]string{`authorizations[0].client_id: names no client "x"`}},
		{"authorization names missing user", "    user_id: u\n    client_id", "    user_id: v\n    client_id",
			[]string{`authorizations[0].user_id: names no user "v"`}},
		{"auth_id zero", "auth_id: 1", "auth_id: 0", []string{"authorizations[0].auth_id: is required"}},
		{"auth_id negative", "auth_id: 1", "auth_id: -3", []string{"authorizations[0].auth_id: must be greater than 0"}},
		{"missing user_id", "- user_id: u\n    username: john\n", "- {}\n", []string{
			"authorizations[0].user_id: names no user \"u\"", "users[0].user_id: is required", "users[0].username: is required"}},
		{"duplicate user", "users:\n", "users:\n  - {user_id: u, username: john}\n", []string{
			`users[1].user_id: "u" is already used by users[0]`, `users[1].username: "john" is already used by users[0]`}},
		{"unknown top-level key", "log_level: info\n", "log_level: info\nlog_levle: debug\n",
			[]string{"log_levle: unknown key (line 4)"}},
		{"unknown client key", "- client_id: a\n", "- client_id: a\n    redirect_uri: https://x/\n",
			[]string{"clients[0].redirect_uri: unknown key (line 10)"}},
		{"bad duration", "log_level: info\n", "log_level: info\nsweep_interval: 5 minutes\n",
			[]string{`sweep_interval: invalid duration "5 minutes": use Go syntax such as 90s, 15m or 2h (line 4)`}},
		{"bare number duration", "  oauth2: {}\n", "  oauth2: {access_token_ttl: 3600}\n",
			[]string{`dialects[oauth2].access_token_ttl: invalid duration "3600": use Go syntax such as 90s, 15m or 2h (line 6)`}},
		{"negative duration", "  oauth2: {}\n", "  oauth2: {refresh_token_ttl: -1h}\n",
			[]string{"dialects[oauth2].refresh_token_ttl: must not be negative"}},
		{"wrong type", "log_level: info\n", "log_level: info\njournal_size: lots\n",
			[]string{"journal_size: cannot unmarshal !!str `lots` into int (line 4)"}},
		{"bad log_level", "log_level: info", "log_level: verbose",
			[]string{`log_level: must be one of debug, info, warn, error, not "verbose"`}},
		{"bad listen", `listen: "127.0.0.1:8080"`, `listen: "127.0.0.1"`,
			[]string{`listen: "127.0.0.1" is not host:port (e.g. 127.0.0.1:8080)`}},
		{"bad admin_listen", "log_level: info\n", "log_level: info\nadmin_listen: ':99999'\n",
			[]string{`admin_listen: ":99999" is not host:port (e.g. 127.0.0.1:8080)`}},
		{"dialect prefix without slash", "prefix: /errorid", "prefix: errorid",
			[]string{`dialects[errorid].prefix: must start with "/"`}},
		{"bad storage driver", "log_level: info\n", "log_level: info\nstorage: {driver: mysql, dsn: x}\n",
			[]string{`storage.driver: must be one of sqlite, postgres, not "mysql"`}},
		{"postgres without URL", "log_level: info\n", "log_level: info\nstorage: {driver: postgres, dsn: tokengate.db}\n",
			[]string{"storage.dsn: must be a postgres:// or postgresql:// URL when driver is postgres"}},
		{"sqlite with postgres URL", "log_level: info\n", "log_level: info\nstorage: {driver: sqlite, dsn: 'postgres://h/db'}\n",
			[]string{"storage.dsn: is a postgres URL but driver is sqlite"}},
		{"negative limit", "log_level: info\n", "log_level: info\nlimits: {max_params: -1}\n",
			[]string{"limits.max_params: must be greater than 0"}},
		{"bad email", "username: john\n", "username: john\n    email: john-at-example\n",
			[]string{`users[0].email: "john-at-example" is not an email address`}},
		{"unknown provider", "username: john\n", "username: john\n    linked_accounts: {myspace: {id: \"1\"}}\n",
			[]string{`users[0].linked_accounts[myspace]: unknown provider "myspace" (known: google, microsoft, discord, github)`}},
		{"linked account without id", "username: john\n", "username: john\n    linked_accounts: {github: {name: J}}\n",
			[]string{"users[0].linked_accounts[github].id: is required"}},
		{"bad scope", "grants: [client_credentials]", "grants: [client_credentials]\n    scopes: [\"read write\"]",
			[]string{`clients[0].scopes[0]: "read write" is not a scope token (printable ASCII without spaces, quotes or backslashes)`}},
		{"duplicate grant", "grants: [client_credentials]", "grants: [client_credentials, client_credentials]",
			[]string{"clients[0].grants: must not contain duplicates"}},
		{"no grants", "grants: [client_credentials]", "grants: []",
			[]string{"clients[0].grants: must have at least 1 entries"}},
		{"missing secret", "- client_id: a\n    client_secret: s\n", "- client_id: a\n",
			[]string{"clients[0].client_secret: is required"}},
		{"javascript redirect URI", `redirect_uris: ["https://app.example/cb"]`, `redirect_uris: ["JavaScript:alert(1)//"]`,
			[]string{"clients[1].redirect_uris[0]: must not use a javascript:, data:, vbscript: or file: URL (OAuth 2.1 §7.5.1)"}},
		{"data redirect URI", `redirect_uris: ["https://app.example/cb"]`, `redirect_uris: ["data:text/html,x", "file:///etc/passwd", "vbscript:x"]`,
			[]string{"clients[1].redirect_uris[0]: must not use a javascript:, data:, vbscript: or file: URL (OAuth 2.1 §7.5.1)",
				"clients[1].redirect_uris[1]: must not use a javascript:, data:, vbscript: or file: URL (OAuth 2.1 §7.5.1)",
				"clients[1].redirect_uris[2]: must not use a javascript:, data:, vbscript: or file: URL (OAuth 2.1 §7.5.1)"}},
		{"client_id with NUL", "- client_id: a\n", "- client_id: \"a\\0b\"\n",
			[]string{"clients[0].client_id: must be at most 256 bytes of UTF-8 without control characters"}},
		{"username with a control character", "username: john", `username: "jo\x1bhn"`,
			[]string{"users[0].username: must be at most 256 bytes of UTF-8 without control characters"}},
		{"lifetime past the clock's range", "  oauth2: {}\n", "  oauth2: {refresh_token_ttl: 438001h}\n",
			[]string{"dialects[oauth2].refresh_token_ttl: must be at most 438000h0m0s (50 years)"}},
		{"journal budget too small", "log_level: info\n", "log_level: info\njournal_max_bytes: 100\n",
			[]string{"journal_max_bytes: must be at least 65536"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(valid, tt.old) {
				t.Fatalf("case edits %q, which the base lacks", tt.old)
			}
			doc := strings.Replace(valid, tt.old, tt.new, 1)
			c, err := Parse([]byte(doc), cat)
			if err == nil {
				t.Fatalf("Parse accepted:\n%s\nconfig: %+v", doc, c)
			}
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("error is %T, not *ValidationError: %v", err, err)
			}
			if !slices.Equal(ve.Problems, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(ve.Problems, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if ve.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q", ve.Error())
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	doc := `
log_level: loud
clients:
  - client_secret: s
    grants: [client_credentials]
  - client_id: c
    client_secret: s
    grants: [authorization_code]
    redirect_uris: [callback]
authorizations:
  - {auth_id: 1, auth_token: t, user_id: nobody, client_id: c}
`
	_, err := Parse([]byte(doc), cat)
	want := []string{
		`authorizations[0].user_id: names no user "nobody"`,
		"clients[0].client_id: is required",
		"clients[1].redirect_uris[0]: must be an absolute URL",
		`log_level: must be one of debug, info, warn, error, not "loud"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// TestEveryProblemInOnePass: values that do not decode, values that do
// not validate, cross-record problems and the dialects' own (from the
// catalog) come back together.
func TestEveryProblemInOnePass(t *testing.T) {
	doc := `
log_level: loud
sweep_interval: soon
dialects:
  hurdlr: {require_bearr: true}
  std-a: {type: oauth2}
clients:
  - client_id: c
    client_secret: s
    grants: client_credentials
    dialects: [std-a, std-b]
authorizations:
  - {auth_id: 1, auth_token: t, user_id: nobody, client_id: c}
`
	withOptions := catalog{problems: func(c *Config) []string {
		if _, ok := c.Dialects["hurdlr"].Options["require_bearr"]; ok {
			return []string{"dialects[hurdlr].require_bearr: unknown key"}
		}
		return nil
	}}
	_, err := Parse([]byte(doc), withOptions)
	want := []string{
		`authorizations[0].user_id: names no user "nobody"`,
		"clients[0].dialects[1]: unknown dialect \"std-b\" (known: acceleration, accounda, errorid, hurdlr, oauth2, std-a)",
		"clients[0].grants: cannot unmarshal !!str `client_...` into []string (line 10)",
		"dialects[hurdlr].require_bearr: unknown key",
		`log_level: must be one of debug, info, warn, error, not "loud"`,
		`sweep_interval: invalid duration "soon": use Go syntax such as 90s, 15m or 2h (line 3)`,
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || !slices.Equal(ve.Problems, want) {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestProblemsSortNaturally(t *testing.T) {
	var b strings.Builder
	b.WriteString("clients:\n")
	for i := 0; i < 12; i++ {
		b.WriteString("  - {client_secret: s, grants: [client_credentials]}\n")
	}
	_, err := Parse([]byte(b.String()), cat)
	ve, ok := err.(*ValidationError)
	if !ok || len(ve.Problems) != 12 {
		t.Fatalf("err = %v", err)
	}
	if ve.Problems[2] != "clients[2].client_id: is required" || ve.Problems[11] != "clients[11].client_id: is required" {
		t.Errorf("order: %q", ve.Problems)
	}
}

func TestSyntaxAndDocumentErrors(t *testing.T) {
	for _, doc := range []string{"clients: [\n", "listen: x\n---\nlisten: y\n"} {
		if _, err := Parse([]byte(doc), cat); err == nil {
			t.Errorf("Parse(%q, cat) succeeded", doc)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("listen: nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(good, cat)
	if err != nil || len(c.Clients) != 2 {
		t.Fatalf("Load(good, cat) = %v, %v", c, err)
	}
	_, err = Load(bad, cat)
	var ve *ValidationError
	if err == nil || !strings.Contains(err.Error(), bad) || !errors.As(err, &ve) ||
		!slices.Equal(ve.Problems, []string{`listen: "nowhere" is not host:port (e.g. 127.0.0.1:8080)`}) {
		t.Errorf("Load(bad, cat) = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), cat); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing, cat) = %v", err)
	}
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) string
	}{
		{"nothing set", nil, func(c *Config) string {
			if c.Listen != "127.0.0.1:8080" || c.Storage != (Storage{Driver: "sqlite", DSN: "tokengate.db"}) || c.AdminToken != "demo-admin-token" || c.LogLevel != "info" {
				return "changed"
			}
			return ""
		}},
		{"listen", map[string]string{"TOKENGATE_LISTEN": "0.0.0.0:9000"}, func(c *Config) string {
			return expect(c.Listen, "0.0.0.0:9000")
		}},
		{"sqlite path", map[string]string{"TOKENGATE_DB": "/var/lib/tg.db"}, func(c *Config) string {
			return expect(c.Storage, Storage{Driver: "sqlite", DSN: "/var/lib/tg.db"})
		}},
		{"memory", map[string]string{"TOKENGATE_DB": ":memory:"}, func(c *Config) string {
			return expect(c.Storage, Storage{Driver: "sqlite", DSN: ":memory:"})
		}},
		{"postgres URL switches driver", map[string]string{"TOKENGATE_DB": "postgres://tg:pw@db:5432/tg?sslmode=disable"}, func(c *Config) string {
			return expect(c.Storage, Storage{Driver: "postgres", DSN: "postgres://tg:pw@db:5432/tg?sslmode=disable"})
		}},
		{"postgresql URL switches driver", map[string]string{"TOKENGATE_DB": "postgresql://db/tg"}, func(c *Config) string {
			return expect(c.Storage, Storage{Driver: "postgres", DSN: "postgresql://db/tg"})
		}},
		{"admin token", map[string]string{"TOKENGATE_ADMIN_TOKEN": "s3cret"}, func(c *Config) string {
			return expect(c.AdminToken, "s3cret")
		}},
		{"log level", map[string]string{"TOKENGATE_LOG_LEVEL": "DEBUG"}, func(c *Config) string {
			return expect(c.LogLevel, "debug")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Default(cat)
			if err != nil {
				t.Fatal(err)
			}
			c.ApplyEnv(func(k string) string { return tt.env[k] })
			if msg := tt.check(c); msg != "" {
				t.Error(msg)
			}
			if err := Validate(c, cat); err != nil {
				t.Errorf("Validate after ApplyEnv: %v", err)
			}
		})
	}
}

func TestApplyEnvThenValidateCatchesBadValues(t *testing.T) {
	c, err := Default(cat)
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyEnv(func(k string) string {
		return map[string]string{"TOKENGATE_LISTEN": "8080", "TOKENGATE_LOG_LEVEL": "chatty"}[k]
	})
	want := `listen: "8080" is not host:port (e.g. 127.0.0.1:8080)` + "\n" + `log_level: must be one of debug, info, warn, error, not "chatty"`
	if err := Validate(c, cat); err == nil || err.Error() != want {
		t.Errorf("Validate = %v", err)
	}
}

func TestUsesDemoCredentials(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want bool
	}{
		{"none", Config{AdminToken: "x", Clients: []Client{{ClientSecret: "y"}}}, false},
		{"admin token", Config{AdminToken: "demo-admin-token"}, true},
		{"client secret", Config{AdminToken: "x", Clients: []Client{{ClientSecret: "y"}, {ClientSecret: "demo-secret"}}}, true},
		{"password", Config{Users: []User{{Password: "demo-password"}}}, true},
		{"auth token", Config{Authorizations: []Authorization{{AuthToken: "demo-auth-token"}}}, true},
	}
	for _, tt := range tests {
		if got := tt.c.UsesDemoCredentials(); got != tt.want {
			t.Errorf("%s: UsesDemoCredentials = %v", tt.name, got)
		}
	}
}

func expect(got, want any) string {
	if !reflect.DeepEqual(got, want) {
		return "got " + fmt.Sprintf("%+v", got) + ", want " + fmt.Sprintf("%+v", want)
	}
	return ""
}
