package loginpage

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
)

// A login session: after a password login the page sets a cookie, signed
// with the wire key (Secrets, shared by replicas), naming the user, when
// they authenticated and the instance; within its lifetime a second
// authorization request of the instance needs no password, as at a real
// provider. Times are the engine clock's, so moving the gateway clock ends
// sessions too.

// DefaultSessionTTL is how long a login session lasts by default.
const DefaultSessionTTL = 8 * time.Hour

const sessionCookie = "tg_session"

// Sessions configures a page's login sessions.
type Sessions struct {
	// Path scopes the cookie: the instance's paths (prefix + "/oauth2").
	Path string
	// TTL is a session's lifetime from the login (default DefaultSessionTTL).
	TTL time.Duration
}

type session struct {
	UserID   string `json:"uid"`
	AuthTime int64  `json:"at"` // unix seconds
	Instance string `json:"in"`
}

// startSession sets the session cookie for user, logged in now.
func (p *Page) startSession(c echo.Context, user *core.User) {
	payload, _ := json.Marshal(session{UserID: user.ID, AuthTime: p.Engine.Now().Unix(), Instance: p.Profile.Dialect})
	enc := base64.RawURLEncoding
	value := enc.EncodeToString(payload) + "." + enc.EncodeToString(p.Secrets.SessionMAC(payload))
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: value, Path: p.Sessions.Path, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.IsTLS(), MaxAge: int(p.sessionTTL() / time.Second)})
}

func (p *Page) sessionTTL() time.Duration {
	if p.Sessions.TTL > 0 {
		return p.Sessions.TTL
	}
	return DefaultSessionTTL
}

// currentSession returns the user of a valid session cookie of this
// instance and when they authenticated, or nil.
func (p *Page) currentSession(c echo.Context) (*core.User, time.Time) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return nil, time.Time{}
	}
	enc := base64.RawURLEncoding
	b64, sig, ok := strings.Cut(ck.Value, ".")
	payload, err1 := enc.DecodeString(b64)
	mac, err2 := enc.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, p.Secrets.SessionMAC(payload)) {
		return nil, time.Time{}
	}
	var s session
	if json.Unmarshal(payload, &s) != nil || s.Instance != p.Profile.Dialect {
		return nil, time.Time{}
	}
	at := time.Unix(s.AuthTime, 0)
	if now := p.Engine.Now(); now.Sub(at) >= p.sessionTTL() || now.Before(at.Add(-time.Minute)) {
		return nil, time.Time{}
	}
	user, err := p.Engine.User(c.Request().Context(), s.UserID)
	if err != nil {
		return nil, time.Time{} // deleted since, or the store is down: log in again
	}
	return user, at
}
