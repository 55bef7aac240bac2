package core

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628). A device authorization is two
// token rows of one family: the device code (kind device_code: scopes,
// polling interval and state in Details, the user once approved) and the
// user code (kind user_code, its Details naming the device code's digest).
// The user enters the user code on the verification page, which records
// the decision on the device code; the device polls the token endpoint
// until then. Every time is the engine clock's.

// Device authorization defaults.
const (
	DefaultDeviceCodeTTL  = 10 * time.Minute
	DefaultDeviceInterval = 5 * time.Second
	// slowDownStep is what every slow_down adds to the interval (RFC 8628 §3.5).
	slowDownStep = 5
)

// userCodeAlphabet has no vowels, so a user code spells no word, and no
// characters easily confused (RFC 8628 §6.1); 8 of them carry 34.5 bits.
const (
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLen      = 8
)

// DeviceAuthorization is the device authorization response (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode string
	UserCode   string // as shown to the user: XXXX-XXXX
	ExpiresIn  int64  // seconds
	Interval   int    // seconds
}

// AuthorizeDevice starts a device authorization for the client (RFC 8628
// §3.1). Credentials, when presented, are checked; a client_id alone
// identifies the client (x/oauth2 sends nothing more, nor do Google's
// clients), whose poll of the token endpoint authenticates it fully.
func (e *Engine) AuthorizeDevice(ctx context.Context, p *Profile, a ClientAuth, scopes []string) (*DeviceAuthorization, error) {
	var client *Client
	var err error
	if a.Secret == "" && a.Assertion == "" && a.AssertionType == "" {
		client, err = e.identifyClient(ctx, p, a.ID)
	} else {
		client, _, err = e.AuthenticateClientAuth(ctx, p, a)
	}
	if err != nil {
		return nil, err
	}
	if !client.AllowsGrant(GrantDeviceCode) {
		return nil, &Error{Kind: KindUnauthorizedClient, Description: "the client may not use the device authorization grant"}
	}
	if scopes, err = grantedScopes(p, client, scopes); err != nil {
		return nil, err
	}
	ttl, interval := orDefault(p.DeviceCodeTTL, DefaultDeviceCodeTTL), orDefault(p.DeviceInterval, DefaultDeviceInterval)
	secs := max(int((interval+time.Second-1)/time.Second), 1)
	now := e.clock.Now()
	family, err := NewFamilyID(e.rand, now)
	if err != nil {
		return nil, Internal(err)
	}
	deviceCode, err := OpaqueMinter{Rand: e.rand}.Mint(ctx, Claims{IssuedAt: now})
	if err != nil {
		return nil, Internal(err)
	}
	device := &Token{Digest: TokenKey(deviceCode), Kind: TokenDeviceCode, ClientID: client.ID, Dialect: p.Dialect,
		Scopes: scopes, FamilyID: family, IssuedAt: now, ExpiresAt: now.Add(ttl), Details: TokenDetails{Interval: secs}}
	// A user code is short: draw again on the rare collision with a live one.
	for range 5 {
		userCode, err := randomUserCode(e.rand)
		if err != nil {
			return nil, Internal(err)
		}
		user := &Token{Digest: userCodeDigest(userCode), Kind: TokenUserCode, ClientID: client.ID, Dialect: p.Dialect,
			Scopes: scopes, FamilyID: family, IssuedAt: now, ExpiresAt: now.Add(ttl),
			Details: TokenDetails{DeviceCode: device.Digest}}
		err = e.store.InsertTokens(ctx, device, user)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, storeError(err)
		}
		e.obs.Issued(p.Dialect, TokenDeviceCode)
		TraceFrom(ctx).stored(device, user)
		return &DeviceAuthorization{DeviceCode: deviceCode, UserCode: userCode[:4] + "-" + userCode[4:],
			ExpiresIn: int64(ttl / time.Second), Interval: secs}, nil
	}
	return nil, Internal(errors.New("no free user code"))
}

// identifyClient finds a usable client by id alone.
func (e *Engine) identifyClient(ctx context.Context, p *Profile, id string) (*Client, error) {
	if id == "" {
		return nil, MissingParam("client_id")
	}
	client, err := e.clients.get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindInvalidClient, Param: "client_id", Value: id, Description: "unknown client"}
	}
	if err != nil {
		return nil, storeError(err)
	}
	return client, e.CheckClientUsable(client, p)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func randomUserCode(r io.Reader) (string, error) {
	b := make([]byte, userCodeLen)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)] // 256 % 20 skews by < 2%: fine for a display code
	}
	return string(b), nil
}

// NormalizeUserCode is a user code as typed, upper-cased without dashes
// and spaces; "" when it cannot be one.
func NormalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != userCodeLen {
		return ""
	}
	for _, r := range s {
		if !strings.ContainsRune(userCodeAlphabet, r) {
			return ""
		}
	}
	return s
}

func userCodeDigest(normalized string) string { return Digest("user_code\x00" + normalized) }

// DeviceRequest is a pending device authorization as the verification page
// shows it.
type DeviceRequest struct {
	ClientID string
	Scopes   []string
	UserCode string // normalized
}

// LookupUserCode finds the live device authorization of a user code
// entered on p's verification page.
func (e *Engine) LookupUserCode(ctx context.Context, p *Profile, userCode string) (*DeviceRequest, *Token, error) {
	code := NormalizeUserCode(userCode)
	unknown := &Error{Kind: KindInvalidRequest, Param: "user_code", Description: "unknown or expired code; check it and try again"}
	if code == "" {
		return nil, nil, unknown
	}
	t, err := e.store.GetToken(ctx, userCodeDigest(code))
	if errors.Is(err, ErrNotFound) || (err == nil && (t.Kind != TokenUserCode || !p.issued(t) || !t.Active(e.clock.Now()))) {
		return nil, nil, unknown
	}
	if err != nil {
		return nil, nil, storeError(err)
	}
	return &DeviceRequest{ClientID: t.ClientID, Scopes: t.Scopes, UserCode: code}, t, nil
}

// DecideDevice records the user's answer to the device authorization of
// userCode: approved for user (authenticated at authTime) or denied. The
// user code is used up either way.
func (e *Engine) DecideDevice(ctx context.Context, p *Profile, userCode string, user *User, authTime time.Time, approve bool) error {
	_, uc, err := e.LookupUserCode(ctx, p, userCode)
	if err != nil {
		return err
	}
	used := &Error{Kind: KindInvalidRequest, Param: "user_code", Description: "this code has already been used"}
	now := e.clock.Now()
	if err := e.store.Exchange(ctx, uc.Digest, now); errors.Is(err, ErrConsumed) {
		return used
	} else if err != nil {
		return storeError(err)
	}
	TraceFrom(ctx).family(uc, FamilyConsumed)
	err = e.store.UpdateToken(ctx, uc.Details.DeviceCode, func(t *Token) error {
		if t.Details.Decision != DevicePending {
			return ErrConsumed
		}
		t.Details.Decision = DeviceDenied
		if approve {
			t.Details.Decision, t.UserID, t.AuthTime = DeviceApproved, user.ID, authTime
		}
		return nil
	})
	if errors.Is(err, ErrConsumed) || errors.Is(err, ErrNotFound) {
		return used
	}
	return storeErrorOrNil(err)
}

// deviceGrant is the device's poll (RFC 8628 §3.4, §3.5):
// authorization_pending until the user answers, slow_down when polled
// faster than the interval (which grows by 5 seconds each time), then the
// tokens once or access_denied; expired_token after the code's lifetime.
func (e *Engine) deviceGrant(ctx context.Context, p *Profile, client *Client, req TokenRequest) (*TokenResult, error) {
	if req.DeviceCode == "" {
		return nil, MissingParam("device_code")
	}
	d, err := e.lookup(ctx, p, req.DeviceCode, TokenDeviceCode)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	used := &Error{Kind: KindInvalidGrant, Description: "the device code has been used"}
	switch {
	case d.ClientID != client.ID:
		return nil, &Error{Kind: KindInvalidGrant, Reason: ReasonWrongClient, Description: "the device code was issued to another client"}
	case !d.ConsumedAt.IsZero() || !d.RevokedAt.IsZero():
		return nil, used
	case !now.Before(d.ExpiresAt):
		return nil, &Error{Kind: KindInvalidGrant, Reason: ReasonExpired, Description: "the device code has expired"}
	}
	var poll error
	var state Token
	err = e.store.UpdateToken(ctx, d.Digest, func(t *Token) error {
		poll = nil
		if t.Details.Decision == DevicePending {
			poll = &Error{Kind: KindInvalidGrant, Reason: ReasonPending, Description: "the user has not answered yet"}
			if last := t.Details.LastPoll; !last.IsZero() && now.Sub(last) < time.Duration(t.Details.Interval)*time.Second {
				t.Details.Interval += slowDownStep
				poll = &Error{Kind: KindInvalidGrant, Reason: ReasonSlowDown, Description: "polling too fast: wait longer between requests"}
			}
		}
		t.Details.LastPoll = now
		state = *t
		return nil
	})
	switch {
	case errors.Is(err, ErrConsumed) || errors.Is(err, ErrNotFound):
		return nil, used
	case err != nil:
		return nil, storeError(err)
	case poll != nil:
		return nil, poll
	case state.Details.Decision == DeviceDenied:
		return nil, &Error{Kind: KindAccessDenied, Reason: ReasonDenied, Description: "the user denied the authorization"}
	}
	g := grant{client: client, userID: state.UserID, scopes: state.Scopes, family: state.FamilyID, authTime: state.AuthTime,
		issuer: req.Issuer}
	res, tokens, err := e.mint(ctx, p, GrantDeviceCode, g, now)
	if err != nil {
		return nil, err
	}
	if err := e.store.Exchange(ctx, d.Digest, now, tokens...); err != nil {
		if errors.Is(err, ErrConsumed) {
			return nil, used
		}
		return nil, storeError(err)
	}
	TraceFrom(ctx).family(d, FamilyConsumed)
	e.issued(ctx, p, tokens)
	return res, nil
}
