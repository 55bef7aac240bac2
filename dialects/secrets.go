package dialects

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Secrets holds process-wide keys the wire layer signs with (CSRF tokens)
// and remembers which single-use CSRF tokens were spent.
type Secrets struct {
	csrfKey []byte
	clock   core.Clock // the wall clock: moving the test clock expires no form

	mu      sync.Mutex
	spent   map[string]time.Time // nonce → when its token expires
	order   []spentNonce         // oldest first
	shared  core.ControlStore
	cleaned int64 // the last hour whose shared spent nonces were deleted
}

type spentNonce struct {
	nonce   string
	expires time.Time
}

// CSRF token bounds: a form may be submitted within CSRFTTL of being
// shown, once; at most MaxSpentNonces spent tokens are remembered in
// memory (those past CSRFTTL are forgotten first, being refused anyway).
const (
	CSRFTTL        = time.Hour
	MaxSpentNonces = 65536
)

// NewSecrets draws fresh keys from crypto/rand.
func NewSecrets() *Secrets {
	return SecretsFromKey(NewSecretKey())
}

// NewSecretKey returns 32 random bytes to build Secrets from.
func NewSecretKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return k
}

// SecretsFromKey builds Secrets from a key shared by replicas, so a login
// page served by one replica can be submitted to another.
func SecretsFromKey(key []byte) *Secrets {
	return &Secrets{csrfKey: key, clock: core.SystemClock{}, spent: map[string]time.Time{}}
}

// ShareSpent makes replicas on one database agree on spent CSRF tokens:
// each is spent with a hit counter of limit 1 in cs.
func (s *Secrets) ShareSpent(cs core.ControlStore) *Secrets { s.shared = cs; return s }

// WithClock makes s read c as its wall clock (tests).
func (s *Secrets) WithClock(c core.Clock) *Secrets { s.clock = c; return s }

// CSRFToken is the form value that goes with a browser's cookie nonce, for
// the request bound describes (the login page: a digest of the authorize
// parameters). It carries its issue time.
func (s *Secrets) CSRFToken(nonce, bound string) string {
	issued := s.clock.Now().Unix()
	return base64.RawURLEncoding.EncodeToString(s.csrfMAC(issued, nonce, bound))
}

func (s *Secrets) csrfMAC(issued int64, nonce, bound string) []byte {
	out := binary.BigEndian.AppendUint64(nil, uint64(issued))
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf\x00" + strconv.FormatInt(issued, 10) + "\x00" + nonce + "\x00" + bound))
	return m.Sum(out)
}

// CheckCSRF reports whether token was issued by CSRFToken for this nonce
// and bound, within CSRFTTL, and spends it: a token passes once.
func (s *Secrets) CheckCSRF(ctx context.Context, token, nonce, bound string) (bool, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 8+sha256.Size {
		return false, nil
	}
	issued := int64(binary.BigEndian.Uint64(raw))
	now := s.clock.Now()
	at := time.Unix(issued, 0)
	if !hmac.Equal(raw, s.csrfMAC(issued, nonce, bound)) || now.Sub(at) > CSRFTTL || at.After(now.Add(time.Minute)) {
		return false, nil
	}
	return s.spend(ctx, nonce, at, now)
}

// spend records nonce as used and reports whether it was not before.
func (s *Secrets) spend(ctx context.Context, nonce string, issued, now time.Time) (bool, error) {
	if s.shared != nil {
		hour := issued.Unix() / 3600
		s.cleanShared(ctx, now.Unix()/3600)
		return s.shared.Hit(ctx, "csrf:"+strconv.FormatInt(hour, 10)+":"+nonce, 1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 && (now.After(s.order[0].expires) || len(s.order) >= MaxSpentNonces) {
		delete(s.spent, s.order[0].nonce)
		s.order = s.order[1:]
	}
	if _, used := s.spent[nonce]; used {
		return false, nil
	}
	exp := issued.Add(CSRFTTL)
	s.spent[nonce] = exp
	s.order = append(s.order, spentNonce{nonce, exp})
	return true, nil
}

// cleanShared deletes, once an hour, the shared counters of nonces whose
// tokens have expired (issued two or more hours ago), so they do not pile
// up in the database.
func (s *Secrets) cleanShared(ctx context.Context, hour int64) {
	s.mu.Lock()
	from := max(s.cleaned+1, hour-26)
	if from > hour-2 {
		s.mu.Unlock()
		return
	}
	s.cleaned = hour - 2
	s.mu.Unlock()
	for h := from; h <= hour-2; h++ {
		_ = s.shared.ResetCounters(ctx, "csrf:"+strconv.FormatInt(h, 10)+":") // a failure only leaves rows behind
	}
}
