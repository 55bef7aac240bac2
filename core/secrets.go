package core

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// DefaultKDFCost is the bcrypt cost of secrets and passwords at rest.
const DefaultKDFCost = bcrypt.DefaultCost

// kdfCost is the cost HashSecret uses; zero means DefaultKDFCost.
var kdfCost atomic.Int32

// SetKDFCost sets the bcrypt cost of the secrets this process hashes from
// now on (0 restores DefaultKDFCost) and returns the previous cost. It is
// for test harnesses, which call it explicitly: at the default cost one
// hash takes about 0.6 s under -race, and every test gateway hashes its
// fixtures' secrets. A server never calls it. Checks are unaffected: a hash
// carries its own cost.
func SetKDFCost(cost int) (previous int) {
	return costOr(kdfCost.Swap(int32(cost)))
}

func costOr(c int32) int {
	if c == 0 {
		return DefaultKDFCost
	}
	return int(c)
}

// HashSecret returns the KDF hash of a client secret or password.
func HashSecret(secret string) (string, error) {
	if len(secret) > 72 {
		// bcrypt reads 72 bytes; pre-hash longer secrets so every byte counts.
		secret = Digest(secret)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(secret), costOr(kdfCost.Load()))
	return string(h), err
}

// CheckSecret reports whether secret matches hash, in constant time with
// respect to the secret. An empty hash never matches but costs the same work,
// so unknown clients and users cannot be told apart by timing.
func CheckSecret(hash, secret string) bool {
	if len(secret) > 72 {
		secret = Digest(secret)
	}
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(secret))
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret))
	return err == nil
}

// dummyHash is compared against when there is no real hash, so a miss costs
// as much as a hit (at the cost in effect when it is first needed).
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("tokengate-dummy"), costOr(kdfCost.Load()))
	if err != nil {
		panic(errors.New("bcrypt unavailable: " + err.Error()))
	}
	return h
})

// Digest is the hex SHA-256 of a token: the only form in which tokens,
// codes and auth tokens are stored and looked up.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// EqualConstantTime compares two strings in constant time.
func EqualConstantTime(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
