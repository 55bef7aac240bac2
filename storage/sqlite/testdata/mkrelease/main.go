// Command mkrelease writes release.db and release.json, the fixture of
// TestUpgradeReleaseDatabase: a database as the release before explicit
// SQLite migrations (commit f24f488, schema made by gorm's automatic migration)
// left it, and every row that release read back from it.
//
// It only means something built against that release:
//
//	git archive f24f488 | tar -x -C /tmp/rel
//	cp -r storage/sqlite/testdata/mkrelease /tmp/rel/storage/sqlite/testdata/
//	cd /tmp/rel && go run ./storage/sqlite/testdata/mkrelease DIR
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/sqlite"
)

// Rows is the content of release.json: what the release read back.
type Rows struct {
	Clients        []*core.Client
	Users          []*core.User
	Authorizations []*core.Authorization
	Tokens         []*core.Token
	SigningKeys    []*core.SigningKey
}

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir string) error {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "release.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	// Nanosecond digits and a zone other than UTC: the release kept the
	// instant to the nanosecond.
	base := time.Date(2031, time.March, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+2", 2*60*60))
	at := func(d time.Duration) time.Time { return base.Add(d) }
	tok := func(name string, kind core.TokenKind, family string, issued time.Duration) *core.Token {
		return &core.Token{Digest: core.Digest("release:" + name), Kind: kind, ClientID: "client-full", UserID: "u-full",
			Dialect: "oauth2", Scopes: []string{"read", "write"}, FamilyID: family, IssuedAt: at(issued),
			ExpiresAt: at(issued + time.Hour), AuthTime: at(issued - time.Minute)}
	}
	code := tok("code", core.TokenCode, "fam-code", 0)
	code.RedirectURI, code.CodeChallenge, code.CodeChallengeMethod =
		"https://app.example/cb?state=xyz", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256"
	refresh := tok("refresh", core.TokenRefresh, "fam-code", time.Second)
	revokedFamily := []*core.Token{tok("fam-access", core.TokenAccess, "fam-revoked", 0),
		tok("fam-refresh", core.TokenRefresh, "fam-revoked", 0)}
	bare := &core.Token{Digest: core.Digest("release:bare"), Kind: core.TokenAccess, ClientID: "client-bare",
		IssuedAt: at(0), ExpiresAt: at(time.Hour)}
	accounda := tok("accounda-auth", core.TokenAccess, "fam-accounda", 0)
	accounda.Dialect, accounda.Scopes, accounda.ExpiresAt = "accounda", nil, at(30*24*time.Hour)
	storedConsumed := tok("stored-consumed", core.TokenCode, "fam-stored", 0)
	storedConsumed.ConsumedAt, storedConsumed.RevokedAt = at(time.Minute), at(2*time.Minute)

	steps := []func() error{
		func() error {
			return s.PutClient(ctx, &core.Client{ID: "client-full", SecretHash: "$2a$04$client-full-hash",
				Grants:       []core.GrantType{core.GrantRefreshToken, core.GrantClientCredentials, core.GrantAuthorizationCode},
				Dialects:     []string{"oauth2", "accounda"},
				RedirectURIs: []string{"https://app.example/cb?x=1&y=2", "http://127.0.0.1:8080/callback"},
				Scopes:       []string{"write", "read", "ünïcode scope"},
				AccessTTL:    90*time.Minute + 1500*time.Millisecond, RefreshTTL: 45 * 24 * time.Hour,
				AllowPlainPKCE: true, Disabled: true, ExpiresAt: at(365 * 24 * time.Hour), UpdatedAt: at(-time.Hour)})
		},
		func() error { return s.PutClient(ctx, &core.Client{ID: "client-bare"}) },
		func() error {
			return s.PutUser(ctx, &core.User{ID: "u-full", Username: "ada", FirstName: "Ada", LastName: "Lovelace",
				Email: "ada@example.test", PasswordHash: "$2a$04$u-full",
				Linked: map[core.Provider]core.LinkedAccount{
					core.ProviderGoogle:    {ID: "g-1", Email: "ada@gmail.example", FirstName: "Ada", LastName: "L"},
					core.ProviderMicrosoft: {ID: "m-1", Username: "ada@contoso.example", Name: "Ada L"},
					core.ProviderDiscord:   {ID: "1234567890123", Username: "ada#0001", Locale: "en-GB"},
					core.ProviderGitHub: {ID: "42", Username: "ada", FirstName: "A", LastName: "B", Name: "Ada B",
						Email: "ada@github.example", Locale: "fr"},
				},
				UpdatedAt: at(-2 * time.Hour)})
		},
		func() error { return s.PutUser(ctx, &core.User{ID: "u-bare"}) },
		func() error {
			return s.PutAuthorization(ctx, &core.Authorization{ID: 7, TokenDigest: accounda.Digest, UserID: "u-full",
				ClientID: "client-full", CreatedAt: at(0)})
		},
		// ID 0: the release assigns the next one.
		func() error {
			return s.PutAuthorization(ctx, &core.Authorization{TokenDigest: core.Digest("release:auth-2"),
				UserID: "u-bare", ClientID: "client-bare"})
		},
		func() error {
			return s.InsertTokens(ctx, append([]*core.Token{code, bare, accounda, storedConsumed}, revokedFamily...)...)
		},
		// The code is redeemed for an access and a refresh token; the
		// refresh token is rotated in turn.
		func() error {
			return s.Exchange(ctx, code.Digest, at(time.Second), tok("access-1", core.TokenAccess, "fam-code", time.Second), refresh)
		},
		func() error {
			return s.Exchange(ctx, refresh.Digest, at(time.Minute), tok("access-2", core.TokenAccess, "fam-code", time.Minute),
				tok("refresh-2", core.TokenRefresh, "fam-code", time.Minute))
		},
		func() error { return s.RevokeToken(ctx, core.Digest("release:access-1"), at(2*time.Minute)) },
		func() error { _, err := s.RevokeFamily(ctx, "fam-revoked", at(3*time.Minute)); return err },
		func() error {
			return s.PutSigningKey(ctx, &core.SigningKey{ID: "kid-old", Dialect: "acceleration", Algorithm: "RS256",
				PEM: []byte("-----BEGIN PRIVATE KEY-----\nold\n-----END PRIVATE KEY-----\n"), CreatedAt: at(-48 * time.Hour),
				RetiredAt: at(-time.Hour), VerifyUntil: at(23 * time.Hour)})
		},
		func() error {
			return s.PutSigningKey(ctx, &core.SigningKey{ID: "kid-new", Dialect: "acceleration", Algorithm: "RS256",
				PEM: []byte("-----BEGIN PRIVATE KEY-----\nnew\n-----END PRIVATE KEY-----\n"), CreatedAt: at(-time.Hour)})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}

	var rows Rows
	if rows.Clients, err = s.ListClients(ctx); err != nil {
		return err
	}
	if rows.Users, err = s.ListUsers(ctx); err != nil {
		return err
	}
	if rows.Authorizations, err = s.ListAuthorizations(ctx); err != nil {
		return err
	}
	if rows.Tokens, err = s.ListTokens(ctx, core.TokenFilter{}); err != nil {
		return err
	}
	if rows.SigningKeys, err = s.ListSigningKeys(ctx, "acceleration"); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rows, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "release.json"), append(b, '\n'), 0o644)
}
