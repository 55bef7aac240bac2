package dialects

import (
	"crypto/hmac"
	"crypto/sha256"
)

// SessionMAC signs a login session cookie's payload with the wire key, so
// a session started on one replica is honoured by the others.
func (s *Secrets) SessionMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("session:"))
	m.Write(payload)
	return m.Sum(nil)
}
