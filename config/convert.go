package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/tokengate/tokengate/core"
)

// ToCore converts the client to the core model, hashing its secret with
// core.HashSecret (an empty secret gives an empty hash, which never matches).
func (c Client) ToCore() (*core.Client, error) {
	hash := ""
	if c.ClientSecret != "" {
		h, err := core.HashSecret(c.ClientSecret)
		if err != nil {
			return nil, fmt.Errorf("hash secret of client %q: %w", c.ClientID, err)
		}
		hash = h
	}
	out := &core.Client{
		ID:             c.ClientID,
		SecretHash:     hash,
		Dialects:       slices.Clone(c.Dialects),
		RedirectURIs:   slices.Clone(c.RedirectURIs),
		Scopes:         slices.Clone(c.Scopes),
		AccessTTL:      time.Duration(c.AccessTokenTTL),
		RefreshTTL:     time.Duration(c.RefreshTokenTTL),
		AllowPlainPKCE: c.AllowPlainPKCE,
		Disabled:       c.Disabled,
	}
	if len(c.Grants) > 0 {
		out.Grants = make([]core.GrantType, len(c.Grants))
		for i, g := range c.Grants {
			out.Grants[i] = core.GrantType(g)
		}
	}
	if c.ExpiresAt != nil {
		out.ExpiresAt = *c.ExpiresAt
	}
	return out, nil
}

// ClientFromCore converts a core client back; the secret cannot be recovered
// and stays empty.
func ClientFromCore(c *core.Client) Client {
	out := Client{
		ClientID:        c.ID,
		Dialects:        slices.Clone(c.Dialects),
		RedirectURIs:    slices.Clone(c.RedirectURIs),
		Scopes:          slices.Clone(c.Scopes),
		AccessTokenTTL:  Duration(c.AccessTTL),
		RefreshTokenTTL: Duration(c.RefreshTTL),
		AllowPlainPKCE:  c.AllowPlainPKCE,
		Disabled:        c.Disabled,
	}
	if len(c.Grants) > 0 {
		out.Grants = make([]string, len(c.Grants))
		for i, g := range c.Grants {
			out.Grants[i] = string(g)
		}
	}
	if !c.ExpiresAt.IsZero() {
		t := c.ExpiresAt
		out.ExpiresAt = &t
	}
	return out
}

// ToCore converts the user to the core model, hashing the password (an
// empty password gives an empty hash: no login).
func (u User) ToCore() (*core.User, error) {
	hash := ""
	if u.Password != "" {
		h, err := core.HashSecret(u.Password)
		if err != nil {
			return nil, fmt.Errorf("hash password of user %q: %w", u.UserID, err)
		}
		hash = h
	}
	out := &core.User{
		ID:           u.UserID,
		Username:     u.Username,
		FirstName:    u.FirstName,
		LastName:     u.LastName,
		Email:        u.Email,
		PasswordHash: hash,
	}
	if len(u.LinkedAccounts) > 0 {
		out.Linked = make(map[core.Provider]core.LinkedAccount, len(u.LinkedAccounts))
		for p, a := range u.LinkedAccounts {
			out.Linked[core.Provider(p)] = core.LinkedAccount(a)
		}
	}
	return out, nil
}

// UserFromCore converts a core user back; the password stays empty.
func UserFromCore(u *core.User) User {
	out := User{
		UserID:    u.ID,
		Username:  u.Username,
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Email:     u.Email,
	}
	if len(u.Linked) > 0 {
		out.LinkedAccounts = make(map[string]LinkedAccount, len(u.Linked))
		for p, a := range u.Linked {
			out.LinkedAccounts[string(p)] = LinkedAccount(a)
		}
	}
	return out
}

// ToCore converts the authorization to the core model, keeping only the
// digest of its token (an empty token gives an empty digest, which no
// presented token matches).
func (a Authorization) ToCore() *core.Authorization {
	digest := ""
	if a.AuthToken != "" {
		digest = core.Digest(a.AuthToken)
	}
	return &core.Authorization{ID: a.AuthID, TokenDigest: digest, UserID: a.UserID, ClientID: a.ClientID}
}

// AuthorizationFromCore converts a core authorization back; the token stays empty.
func AuthorizationFromCore(a *core.Authorization) Authorization {
	return Authorization{AuthID: a.ID, UserID: a.UserID, ClientID: a.ClientID}
}

// Seed is the state the configuration declares, as core values with their
// secrets hashed, for the engine to store (core.Engine.Seed). Nothing is
// written here.
func (c *Config) Seed() (core.Seed, error) {
	var s core.Seed
	for _, cl := range c.Clients {
		m, err := cl.ToCore()
		if err != nil {
			return core.Seed{}, fmt.Errorf("config: seed: %w", err)
		}
		s.Clients = append(s.Clients, m)
	}
	for _, u := range c.Users {
		m, err := u.ToCore()
		if err != nil {
			return core.Seed{}, fmt.Errorf("config: seed: %w", err)
		}
		s.Users = append(s.Users, m)
	}
	for _, a := range c.Authorizations {
		s.Authorizations = append(s.Authorizations, a.ToCore())
	}
	return s, nil
}
