package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/control"
)

// Client calls the admin API of a running gateway; the CLI and the
// in-process test helper both use it.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	HTTP    *http.Client
}

// APIError is a non-2xx answer of the admin API.
type APIError struct {
	Status  int
	Problem Problem
}

func (e *APIError) Error() string {
	msg := e.Problem.Message
	if len(e.Problem.Problems) > 0 {
		msg = strings.Join(e.Problem.Problems, "; ")
	}
	return fmt.Sprintf("admin API: %d %s: %s", e.Status, e.Problem.Error, msg)
}

// Do sends one call; in (if not nil) is the JSON body, out (if not nil)
// receives the JSON answer.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+Prefix+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(raw, &e.Problem)
		return e
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

var bg = context.Background()

// Clock reads the gateway clock.
func (c *Client) Clock() (ClockState, error) {
	var s ClockState
	return s, c.Do(bg, http.MethodGet, "/clock", nil, &s)
}

// ChangeClock applies one clock change.
func (c *Client) ChangeClock(ch ClockChange) (ClockState, error) {
	var s ClockState
	return s, c.Do(bg, http.MethodPost, "/clock", ch, &s)
}

// AdvanceClock moves the gateway clock by d.
func (c *Client) AdvanceClock(d time.Duration) (ClockState, error) {
	return c.ChangeClock(ClockChange{Advance: d.String()})
}

// SetClock makes the gateway clock read t.
func (c *Client) SetClock(t time.Time) (ClockState, error) {
	return c.ChangeClock(ClockChange{Set: t.Format(time.RFC3339Nano)})
}

// FreezeClock stops (true) or restarts (false) the gateway clock.
func (c *Client) FreezeClock(on bool) (ClockState, error) {
	return c.ChangeClock(ClockChange{Freeze: &on})
}

// ResetClock returns the gateway clock to real time.
func (c *Client) ResetClock() (ClockState, error) { return c.ChangeClock(ClockChange{Reset: true}) }

// AddFault adds a fault rule and returns it with its id.
func (c *Client) AddFault(r control.Rule) (control.Rule, error) {
	var out control.Rule
	return out, c.Do(bg, http.MethodPost, "/faults", r, &out)
}

// Faults lists the rules with their hit counts.
func (c *Client) Faults() ([]control.Rule, error) {
	var out []control.Rule
	return out, c.Do(bg, http.MethodGet, "/faults", nil, &out)
}

// DeleteFault removes one rule.
func (c *Client) DeleteFault(id string) error {
	return c.Do(bg, http.MethodDelete, "/faults/"+url.PathEscape(id), nil, nil)
}

// ClearFaults removes every rule.
func (c *Client) ClearFaults() error { return c.Do(bg, http.MethodDelete, "/faults", nil, nil) }

// Requests lists journal entries, newest first.
func (c *Client) Requests(f control.Filter) ([]control.Entry, error) {
	q := url.Values{}
	if f.Dialect != "" {
		q.Set("dialect", f.Dialect)
	}
	if f.ClientID != "" {
		q.Set("client_id", f.ClientID)
	}
	if f.Family != "" {
		q.Set("family", f.Family)
	}
	if f.Status != 0 {
		q.Set("status", strconv.Itoa(f.Status))
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out []control.Entry
	return out, c.Do(bg, http.MethodGet, "/requests?"+q.Encode(), nil, &out)
}

// ClearRequests empties the journal.
func (c *Client) ClearRequests() error { return c.Do(bg, http.MethodDelete, "/requests", nil, nil) }

// CreateClient registers a client (201); it fails with 409 if it exists.
func (c *Client) CreateClient(cl config.Client) (config.Client, error) {
	var out config.Client
	return out, c.Do(bg, http.MethodPost, "/clients", cl, &out)
}

// UpdateClient replaces a client; an empty secret keeps the stored one.
func (c *Client) UpdateClient(cl config.Client) (config.Client, error) {
	var out config.Client
	return out, c.Do(bg, http.MethodPut, "/clients/"+url.PathEscape(cl.ClientID), cl, &out)
}

// GetClient reads a client (never its secret).
func (c *Client) GetClient(id string) (config.Client, error) {
	var out config.Client
	return out, c.Do(bg, http.MethodGet, "/clients/"+url.PathEscape(id), nil, &out)
}

// Clients lists every client.
func (c *Client) Clients() ([]config.Client, error) {
	var out []config.Client
	return out, c.Do(bg, http.MethodGet, "/clients", nil, &out)
}

// DeleteClient removes a client and revokes its tokens.
func (c *Client) DeleteClient(id string) error {
	return c.Do(bg, http.MethodDelete, "/clients/"+url.PathEscape(id), nil, nil)
}

// CreateUser registers a user.
func (c *Client) CreateUser(u config.User) (config.User, error) {
	var out config.User
	return out, c.Do(bg, http.MethodPost, "/users", u, &out)
}

// UpdateUser replaces a user; an empty password keeps the stored one.
func (c *Client) UpdateUser(u config.User) (config.User, error) {
	var out config.User
	return out, c.Do(bg, http.MethodPut, "/users/"+url.PathEscape(u.UserID), u, &out)
}

// Users lists every user.
func (c *Client) Users() ([]config.User, error) {
	var out []config.User
	return out, c.Do(bg, http.MethodGet, "/users", nil, &out)
}

// DeleteUser removes a user.
func (c *Client) DeleteUser(id string) error {
	return c.Do(bg, http.MethodDelete, "/users/"+url.PathEscape(id), nil, nil)
}

// CreateAuthorization registers an authorization.
func (c *Client) CreateAuthorization(a config.Authorization) (config.Authorization, error) {
	var out config.Authorization
	return out, c.Do(bg, http.MethodPost, "/authorizations", a, &out)
}

// Authorizations lists every authorization.
func (c *Client) Authorizations() ([]config.Authorization, error) {
	var out []config.Authorization
	return out, c.Do(bg, http.MethodGet, "/authorizations", nil, &out)
}

// DeleteAuthorization removes an authorization.
func (c *Client) DeleteAuthorization(id int64) error {
	return c.Do(bg, http.MethodDelete, "/authorizations/"+strconv.FormatInt(id, 10), nil, nil)
}

// Tokens lists token metadata; q may filter by client_id, user_id, dialect, kind.
func (c *Client) Tokens(q url.Values) ([]TokenInfo, error) {
	var out []TokenInfo
	return out, c.Do(bg, http.MethodGet, "/tokens?"+q.Encode(), nil, &out)
}

// RevokeToken revokes one token by its value.
func (c *Client) RevokeToken(token string) error {
	return c.Do(bg, http.MethodPost, "/tokens/revoke", map[string]string{"token": token}, nil)
}

// RevokeClientTokens revokes every token of a client and reports how many.
func (c *Client) RevokeClientTokens(clientID string) (int, error) {
	var out struct {
		Revoked int `json:"revoked"`
	}
	err := c.Do(bg, http.MethodPost, "/clients/"+url.PathEscape(clientID)+"/revoke-tokens", nil, &out)
	return out.Revoked, err
}

// Reset wipes tokens, codes, journal, faults and the failure limiter and
// returns the clock to real time; toConfig also restores clients, users
// and authorizations to the config.
func (c *Client) Reset(toConfig bool) error {
	in := ResetRequest{}
	if toConfig {
		in.To = "config"
	}
	_, err := c.ResetWith(in)
	return err
}

// ResetWith resets as asked (e.g. keeping the clock) and says what it cleared.
func (c *Client) ResetWith(in ResetRequest) (ResetAnswer, error) {
	var out ResetAnswer
	return out, c.Do(bg, http.MethodPost, "/reset", in, &out)
}

// AddDialect mounts a declared dialect from its spec text at once (201);
// it is stored, so every replica serves it and it survives a restart.
func (c *Client) AddDialect(req DialectRequest) (Dialect, error) {
	var out Dialect
	return out, c.Do(bg, http.MethodPost, "/dialects", req, &out)
}

// Dialects lists the mounted dialect instances, the config's and those
// added at run time.
func (c *Client) Dialects() ([]Dialect, error) {
	var out []Dialect
	return out, c.Do(bg, http.MethodGet, "/dialects", nil, &out)
}

// GetDialect reads one mounted instance (with its spec text, if it was
// added at run time).
func (c *Client) GetDialect(name string) (Dialect, error) {
	var out Dialect
	return out, c.Do(bg, http.MethodGet, "/dialects/"+url.PathEscape(name), nil, &out)
}

// RemoveDialect unmounts a dialect added at run time and forgets it.
func (c *Client) RemoveDialect(name string) error {
	return c.Do(bg, http.MethodDelete, "/dialects/"+url.PathEscape(name), nil, nil)
}
