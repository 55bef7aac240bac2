package dialects

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
)

// Secrets holds process-wide keys the wire layer signs with (CSRF tokens).
type Secrets struct{ csrfKey []byte }

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
func SecretsFromKey(key []byte) *Secrets { return &Secrets{csrfKey: key} }

// CSRFMAC binds a CSRF form value to the browser's cookie value.
func (s *Secrets) CSRFMAC(cookie string) []byte {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf:" + cookie))
	return m.Sum(nil)
}
