package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// sessions is the bounded table of signed-in browsers. It keys sessions by
// the SHA-256 of their id, so the table holds no usable cookie value; when
// full, signing in evicts the session idle the longest.
type sessions struct {
	mu      sync.Mutex
	byID    map[[32]byte]*session
	max     int
	idle    time.Duration // a session unused this long ends
	maxAge  time.Duration // and any session this old
	now     func() time.Time
	loginMK []byte // keys the login form's CSRF token
}

type session struct {
	csrf    string
	created time.Time
	seen    time.Time
	flash   string // one message for the next page shown
}

func newSessions(max int, idle, maxAge time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[[32]byte]*session{}, max: max, idle: idle, maxAge: maxAge, now: now, loginMK: randomBytes(32)}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return b
}

func randomToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// create starts a session and returns its id (the cookie value).
func (s *sessions) create() (string, *session) {
	id := randomToken()
	now := s.now()
	ss := &session{csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	if len(s.byID) >= s.max {
		var oldest [32]byte
		var at time.Time
		for k, v := range s.byID {
			if at.IsZero() || v.seen.Before(at) {
				oldest, at = k, v.seen
			}
		}
		delete(s.byID, oldest)
	}
	s.byID[sha256.Sum256([]byte(id))] = ss
	return id, ss
}

// get returns the live session of id, or nil, and marks it used.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sha256.Sum256([]byte(id))
	ss := s.byID[k]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.byID, k)
		return nil
	}
	ss.seen = now
	return ss
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	delete(s.byID, sha256.Sum256([]byte(id)))
	s.mu.Unlock()
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.seen) >= s.idle || now.Sub(ss.created) >= s.maxAge
}

func (s *sessions) expireLocked(now time.Time) {
	for k, v := range s.byID {
		if s.expired(v, now) {
			delete(s.byID, k)
		}
	}
}

// setFlash and takeFlash carry one message across a redirect.
func (s *sessions) setFlash(ss *session, msg string) {
	s.mu.Lock()
	ss.flash = msg
	s.mu.Unlock()
}

func (s *sessions) takeFlash(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := ss.flash
	ss.flash = ""
	return msg
}

// loginCSRF is the sign-in form's CSRF token, bound to the browser's
// pre-session cookie.
func (s *sessions) loginCSRF(pre string) string {
	m := hmac.New(sha256.New, s.loginMK)
	m.Write([]byte("console-login:" + pre))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// equal compares two secrets in constant time (lengths leak nothing: both
// sides are hashed first).
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
