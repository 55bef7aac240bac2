package spec

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// TestTokenResponses renders each shipped spec's token answer for one grant
// result, byte for byte: keys in the vendor's order, typed values.
func TestTokenResponses(t *testing.T) {
	res := &core.TokenResult{AccessToken: "AT", RefreshToken: "RT", TokenType: "Bearer", ExpiresIn: 7776000,
		IssuedAt: issued, ExpiresAt: issued.Add(7776000 * time.Second), Scopes: []string{"token"}, ClientID: "c1", UserID: "u1"}
	cases := []struct {
		file, accept, contentType, body string
	}{
		{"../testdata/errorid.yaml", "", "application/json", `{"access_token":"AT","token_type":"Bearer","expires_in":7776000}`},
		{"../testdata/hurdlr.yaml", "", "application/json",
			`{"access_token":"AT","refresh_token":"RT","expires_in":7776000,"created_at":1772366400,"scope":"token"}`},
		{"../../../docs/examples/github.yaml", "", "application/x-www-form-urlencoded", `access_token=AT&scope=token&token_type=bearer`},
		{"../../../docs/examples/github.yaml", "application/json", "application/json", `{"access_token":"AT","scope":"token","token_type":"bearer"}`},
		{"../../../docs/examples/slack.yaml", "", "application/json",
			`{"ok":true,"access_token":"AT","token_type":"bot","scope":"token","bot_user_id":"U0KRQLJ9H","app_id":"A0KRD7HC3",` +
				`"team":{"name":"Slack Softball Team","id":"T9TK3CUKW"},"enterprise":null,"is_enterprise_install":false,` +
				`"authed_user":{"id":"u1"},"expires_in":7776000,"refresh_token":"RT"}`},
		{"../../../docs/examples/microsoft.yaml", "", "application/json",
			`{"token_type":"Bearer","scope":"token","expires_in":7776000,"ext_expires_in":7776000,"access_token":"AT","refresh_token":"RT"}`},
	}
	for _, tc := range cases {
		t.Run(tc.file+" "+tc.accept, func(t *testing.T) {
			s := loadSpec(t, tc.file)
			v := ResultValues(res)
			var out Output
			route(t, s, OpToken).Response.Render(&out, tc.accept, &v)
			if out.Status != 200 || out.ContentType != tc.contentType || string(out.Body) != tc.body {
				t.Errorf("got %d %s\n%s\nwant %s", out.Status, out.ContentType, out.Body, tc.body)
			}
		})
	}
	// Slack leaves refresh_token out when none was issued.
	s := loadSpec(t, "../../../docs/examples/slack.yaml")
	v := ResultValues(res)
	v.RefreshToken = ""
	var out Output
	route(t, s, OpToken).Response.Render(&out, "", &v)
	var body map[string]any
	if err := json.Unmarshal(out.Body, &body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["refresh_token"]; ok {
		t.Errorf("refresh_token present without one: %s", out.Body)
	}
}

// TestProfiles: each spec's tokens as the engine will issue them.
func TestProfiles(t *testing.T) {
	hurdlr := regexp.MustCompile(`^[0-9a-f]{64}\.[0-9a-f]{32}$`)
	h := loadSpec(t, "../testdata/hurdlr.yaml")
	p, err := h.Profile("hurdlr-2", rand.Reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Dialect != "hurdlr-2" || p.AccessTTL != 7776000*time.Second || p.RefreshTTL != 4320*time.Hour ||
		p.CodeTTL != 10*time.Minute || len(p.RefreshGrants) != 3 || len(p.DefaultScopes) != 1 || p.DefaultScopes[0] != "token" {
		t.Errorf("profile %+v", p)
	}
	for _, m := range []core.Minter{p.AccessMinter, p.RefreshMinter} {
		tok, err := m.Mint(context.Background(), core.Claims{})
		if err != nil || !hurdlr.MatchString(tok) {
			t.Errorf("token %q %v", tok, err)
		}
	}
	e := loadSpec(t, "../testdata/errorid.yaml")
	p, err = e.Profile("errorid", rand.Reader, nil)
	if err != nil || p.AccessMinter != nil || p.AccessTTL != time.Hour || len(p.RefreshGrants) != 0 {
		t.Errorf("errorid profile %+v %v (the engine's opaque default, no refresh tokens)", p, err)
	}
	slack := loadSpec(t, "../../../docs/examples/slack.yaml")
	p, _ = slack.Profile("slack", rand.Reader, nil)
	tok, _ := p.AccessMinter.Mint(context.Background(), core.Claims{})
	if !regexp.MustCompile(`^xoxb-[0-9]{11}-[0-9]{13}-[0-9A-Za-z]{24}$`).MatchString(tok) {
		t.Errorf("slack bot token %q", tok)
	}
}

// TestProfileFlags: rotate_refresh and one_active_access_token reach the
// engine's profile; the defaults rotate and allow many tokens.
func TestProfileFlags(t *testing.T) {
	for _, tc := range []struct {
		tokens                 string
		keep, oneActive, fixed bool
	}{
		{"", false, false, false},
		{"tokens: {rotate_refresh: false, one_active_access_token: true, scope: x, fixed_scope: true}\n", true, true, true},
		{"tokens: {rotate_refresh: true, one_active_access_token: false, fixed_scope: false}\n", false, false, false},
	} {
		s, err := Parse([]byte(tc.tokens + minimal))
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Profile("demo", rand.Reader, nil)
		if err != nil || p.KeepRefreshToken != tc.keep || p.OneActiveAccessToken != tc.oneActive || p.FixedScopes != tc.fixed {
			t.Errorf("%q: profile %+v %v", tc.tokens, p, err)
		}
	}
	if _, err := Parse([]byte("tokens: {fixed_scope: true}\n" + minimal)); err == nil ||
		!strings.Contains(err.Error(), "tokens.fixed_scope: needs tokens.scope") {
		t.Errorf("fixed_scope without a scope: %v", err)
	}
}
