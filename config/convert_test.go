package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

type errorIDOptions struct {
	WorkingHours string   `yaml:"working_hours"`
	TimeZone     string   `yaml:"time_zone"`
	Grace        Duration `yaml:"grace"`
}

func TestDecodeOptions(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    errorIDOptions
		wantErr string
	}{
		{"empty", "{}", errorIDOptions{}, ""},
		{"shared keys are not options", "{enabled: true, prefix: /e, access_token_ttl: 1h}", errorIDOptions{}, ""},
		{"all", `{working_hours: "Mon-Fri 08:00-18:00", time_zone: Europe/Berlin, grace: 90s, prefix: /e}`,
			errorIDOptions{"Mon-Fri 08:00-18:00", "Europe/Berlin", Duration(90 * time.Second)}, ""},
		{"typo", "{working_hour: x}", errorIDOptions{}, "working_hour: unknown key"},
		{"wrong type", "{time_zone: [a]}", errorIDOptions{}, "time_zone: cannot unmarshal !!seq into string"},
		{"bad duration", "{grace: soon}", errorIDOptions{}, `grace: invalid duration "soon"`},
		{"every problem", "{grace: soon, working_hour: x, type: oauth2}", errorIDOptions{},
			"grace: invalid duration \"soon\": use Go syntax such as 90s, 15m or 2h\nworking_hour: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d DialectConfig
			if err := yaml.Unmarshal([]byte(tt.yaml), &d); err != nil {
				t.Fatal(err)
			}
			var got errorIDOptions
			err := d.DecodeOptions(&got)
			if tt.wantErr != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDialectOptionsFromFile(t *testing.T) {
	c, err := Parse([]byte("dialects:\n  errorid: {working_hours: \"Mon-Fri 08:00-18:00\", time_zone: Europe/Berlin, enabled: false}\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Dialects["errorid"]
	if d.IsEnabled() {
		t.Error("enabled: false ignored")
	}
	if !reflect.DeepEqual(d.Options, map[string]any{"working_hours": "Mon-Fri 08:00-18:00", "time_zone": "Europe/Berlin"}) {
		t.Errorf("Options = %#v", d.Options)
	}
}

func TestDurationEncodings(t *testing.T) {
	d := Duration(90 * time.Second)
	y, err := yaml.Marshal(struct{ D Duration }{d})
	if err != nil || string(y) != "d: 1m30s\n" {
		t.Errorf("yaml = %q, %v", y, err)
	}
	j, err := json.Marshal(struct{ D Duration }{d})
	if err != nil || string(j) != `{"D":"1m30s"}` {
		t.Errorf("json = %s, %v", j, err)
	}
	var back struct{ D Duration }
	if err := json.Unmarshal([]byte(`{"D":"2h"}`), &back); err != nil || back.D != Duration(2*time.Hour) {
		t.Errorf("json decode = %v, %v", back.D, err)
	}
	for _, bad := range []string{`{"D":"2 hours"}`, `{"D":3600}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("json accepted %s", bad)
		}
	}
	for _, in := range []string{"d: 0\n", "d: 0s\n"} {
		var v struct{ D Duration }
		if err := yaml.Unmarshal([]byte(in), &v); err != nil || v.D != 0 {
			t.Errorf("yaml %q = %v, %v", in, v.D, err)
		}
	}
}

func TestValidateSingleRecords(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"client ok", (&Config{}).ValidateClient(&Client{ClientID: "c", ClientSecret: "s", Grants: []string{"client_credentials"}}, cat), ""},
		{"client relative redirect", (&Config{}).ValidateClient(&Client{ClientID: "c", ClientSecret: "s", Grants: []string{"authorization_code"},
			RedirectURIs: []string{"https://ok.example/cb", "cb"}}, cat), "redirect_uris[1]: must be an absolute URL"},
		{"client native app redirect", (&Config{}).ValidateClient(&Client{ClientID: "c", ClientSecret: "s", Grants: []string{"authorization_code"},
			RedirectURIs: []string{"com.example.app:/oauth2redirect", "http://127.0.0.1:5000/cb"}}, cat), ""},
		{"client http without host", (&Config{}).ValidateClient(&Client{ClientID: "c", ClientSecret: "s", Grants: []string{"authorization_code"},
			RedirectURIs: []string{"http:/cb"}}, cat), "redirect_uris[0]: must be an absolute URL"},
		{"client dialects", (&Config{Dialects: map[string]DialectConfig{"std-a": {Type: "oauth2"}}}).ValidateClient(&Client{ClientID: "c",
			ClientSecret: "s", Grants: []string{"client_credentials"}, Dialects: []string{"std-a", "hurdlr", "std-b", "bad name"}}, cat),
			"dialects[2]: unknown dialect \"std-b\" (known: acceleration, accounda, errorid, hurdlr, oauth2, std-a)\n" +
				"dialects[3]: \"bad name\" is not a dialect name (letters, digits, '.', '_' and '-')"},
		{"client nothing", (&Config{}).ValidateClient(&Client{}, cat), "client_id: is required\nclient_secret: is required\ngrants: is required"},
		{"client nil", (&Config{}).ValidateClient(nil, cat), "is missing"},
		{"user ok", ValidateUser(&User{UserID: "u", Username: "n", LinkedAccounts: map[string]LinkedAccount{"discord": {ID: "1"}}}), ""},
		{"user bad", ValidateUser(&User{UserID: "u", LinkedAccounts: map[string]LinkedAccount{"discord": {Email: "x"}}}),
			"linked_accounts[discord].email: \"x\" is not an email address\nlinked_accounts[discord].id: is required\nusername: is required"},
		{"authorization ok", ValidateAuthorization(&Authorization{AuthID: 7, AuthToken: "t", UserID: "u", ClientID: "c"}), ""},
		{"authorization bad", ValidateAuthorization(&Authorization{AuthID: -1, UserID: "u"}),
			"auth_id: must be greater than 0\nauth_token: is required\nclient_id: is required"},
	}
	for _, tt := range tests {
		got := ""
		if tt.err != nil {
			var ve *ValidationError
			if !errors.As(tt.err, &ve) {
				t.Errorf("%s: %T is not a *ValidationError", tt.name, tt.err)
			}
			got = tt.err.Error()
		}
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestClientRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	in := Client{
		ClientID: "c", ClientSecret: "the-secret",
		Grants:          []string{"client_credentials", "authorization_code"},
		RedirectURIs:    []string{"https://app.example/cb"},
		Dialects:        []string{"oauth2"},
		Scopes:          []string{"read", "write"},
		AccessTokenTTL:  Duration(time.Hour),
		RefreshTokenTTL: Duration(24 * time.Hour),
		AllowPlainPKCE:  true, Disabled: true, ExpiresAt: &exp,
	}
	m, err := in.ToCore()
	if err != nil {
		t.Fatal(err)
	}
	if m.SecretHash == "" || strings.Contains(m.SecretHash, "the-secret") || !core.CheckSecret(m.SecretHash, "the-secret") ||
		core.CheckSecret(m.SecretHash, "other") {
		t.Errorf("SecretHash %q does not verify the secret (only)", m.SecretHash)
	}
	want := core.Client{ID: "c", SecretHash: m.SecretHash,
		Grants:       []core.GrantType{core.GrantClientCredentials, core.GrantAuthorizationCode},
		RedirectURIs: in.RedirectURIs, Dialects: in.Dialects, Scopes: in.Scopes,
		AccessTTL: time.Hour, RefreshTTL: 24 * time.Hour, AllowPlainPKCE: true, Disabled: true, ExpiresAt: exp}
	if !reflect.DeepEqual(*m, want) {
		t.Errorf("ToCore = %+v\nwant %+v", *m, want)
	}
	back := ClientFromCore(m)
	wantBack := in
	wantBack.ClientSecret = ""
	if !reflect.DeepEqual(back, wantBack) {
		t.Errorf("ClientFromCore = %+v\nwant %+v", back, wantBack)
	}
	js, _ := json.Marshal(back)
	if strings.Contains(string(js), "secret") || strings.Contains(string(js), m.SecretHash) {
		t.Errorf("JSON leaks the secret: %s", js)
	}
	if !strings.Contains(string(js), `"access_token_ttl":"1h0m0s"`) || !strings.Contains(string(js), `"client_id":"c"`) {
		t.Errorf("JSON names: %s", js)
	}

	noSecret, err := Client{ClientID: "p"}.ToCore()
	if err != nil || noSecret.SecretHash != "" || noSecret.ExpiresAt != (time.Time{}) {
		t.Errorf("empty secret: %+v, %v", noSecret, err)
	}
	if c := ClientFromCore(noSecret); c.ExpiresAt != nil {
		t.Errorf("zero ExpiresAt came back as %v", c.ExpiresAt)
	}
}

func TestUserRoundTrip(t *testing.T) {
	in := User{UserID: "u", Username: "john", FirstName: "John", LastName: "Doe", Email: "j@example.com",
		Password: "pw-123", LinkedAccounts: map[string]LinkedAccount{
			"github":  {ID: "1", Name: "John Github", Email: "g@example.com"},
			"discord": {ID: "2", Username: "jd", Locale: "en-US"},
		}}
	m, err := in.ToCore()
	if err != nil {
		t.Fatal(err)
	}
	if !core.CheckSecret(m.PasswordHash, "pw-123") || strings.Contains(m.PasswordHash, "pw-123") {
		t.Errorf("PasswordHash %q", m.PasswordHash)
	}
	if got := m.Linked[core.ProviderGitHub]; got != (core.LinkedAccount{ID: "1", Name: "John Github", Email: "g@example.com"}) {
		t.Errorf("github = %+v", got)
	}
	if got := m.Linked[core.ProviderDiscord]; got != (core.LinkedAccount{ID: "2", Username: "jd", Locale: "en-US"}) {
		t.Errorf("discord = %+v", got)
	}
	back := UserFromCore(m)
	wantBack := in
	wantBack.Password = ""
	if !reflect.DeepEqual(back, wantBack) {
		t.Errorf("UserFromCore = %+v\nwant %+v", back, wantBack)
	}
	js, _ := json.Marshal(back)
	if strings.Contains(string(js), "password") || strings.Contains(string(js), "pw-123") {
		t.Errorf("JSON leaks the password: %s", js)
	}
	empty, err := User{UserID: "x", Username: "x"}.ToCore()
	if err != nil || empty.PasswordHash != "" {
		t.Errorf("empty password gave hash %q, %v", empty.PasswordHash, err)
	}
}

func TestAuthorizationRoundTrip(t *testing.T) {
	in := Authorization{AuthID: 3, AuthToken: "tok", UserID: "u", ClientID: "c"}
	m := in.ToCore()
	if *m != (core.Authorization{ID: 3, TokenDigest: core.Digest("tok"), UserID: "u", ClientID: "c"}) {
		t.Errorf("ToCore = %+v", *m)
	}
	back := AuthorizationFromCore(m)
	if back != (Authorization{AuthID: 3, UserID: "u", ClientID: "c"}) {
		t.Errorf("AuthorizationFromCore = %+v", back)
	}
	js, _ := json.Marshal(back)
	if string(js) != `{"auth_id":3,"user_id":"u","client_id":"c"}` {
		t.Errorf("JSON = %s", js)
	}
	if d := (Authorization{AuthID: 1}).ToCore().TokenDigest; d != "" {
		t.Errorf("empty token gave digest %q", d)
	}
}

// Seed turns the configured records into core values, secrets hashed, in
// the order of the file.
func TestSeed(t *testing.T) {
	c, err := Default(cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Seed()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clients) != len(c.Clients) || len(s.Users) != len(c.Users) || len(s.Authorizations) != len(c.Authorizations) {
		t.Fatalf("seed has %d clients, %d users, %d authorizations; the config %d, %d, %d", len(s.Clients), len(s.Users),
			len(s.Authorizations), len(c.Clients), len(c.Users), len(c.Authorizations))
	}
	for i, cl := range s.Clients {
		if cl.ID != c.Clients[i].ClientID || !core.CheckSecret(cl.SecretHash, c.Clients[i].ClientSecret) {
			t.Errorf("client %d: %+v, want %q with its secret hashed", i, cl, c.Clients[i].ClientID)
		}
	}
	demo := s.Users[slices.IndexFunc(s.Users, func(u *core.User) bool { return u.ID == "demo-user" })]
	if demo.Username != "johndoe" || !core.CheckSecret(demo.PasswordHash, "demo-password") || len(demo.Linked) != 4 {
		t.Errorf("demo user = %+v", demo)
	}
	a := s.Authorizations[0]
	if a.ID != c.Authorizations[0].AuthID || a.TokenDigest != core.Digest(c.Authorizations[0].AuthToken) ||
		a.UserID != c.Authorizations[0].UserID || !a.CreatedAt.IsZero() {
		t.Errorf("authorization = %+v (CreatedAt is the engine's to set)", a)
	}
	if empty, err := (&Config{}).Seed(); err != nil || empty.Clients != nil || empty.Users != nil || empty.Authorizations != nil {
		t.Errorf("empty config: %+v, %v", empty, err)
	}
}
