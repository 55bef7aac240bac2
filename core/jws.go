package core

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// The JOSE side of KeyRing: what differs between signing algorithms.

// Signing algorithms (JWS "alg") a KeyRing can hold. Adding one (ES256 for
// OpenID Connect) means a case in each function of this file.
const AlgRS256 = "RS256"

// RSAKeyBits is the size of generated RSA keys, and the least accepted.
const RSAKeyBits = 2048

// JWK is one public key of a JWK Set (RFC 7517), members in the order
// they are published.
type JWK struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n,omitempty"` // RSA
	E   string `json:"e,omitempty"` // RSA
}

// signerAlgorithm is the algorithm signer's key is for, or why it is unusable.
func signerAlgorithm(signer crypto.Signer) (string, error) {
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < RSAKeyBits {
			return "", fmt.Errorf("RSA key of %d bits: at least %d are required", k.N.BitLen(), RSAKeyBits)
		}
		return AlgRS256, nil
	}
	return "", fmt.Errorf("a %T cannot sign tokens", signer)
}

func generateSigner(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, RSAKeyBits)
	}
	return nil, fmt.Errorf("signing algorithm %q is not supported", alg)
}

func signatureSize(signer crypto.Signer) int {
	if k, ok := signer.(*rsa.PrivateKey); ok {
		return k.Size()
	}
	return 0
}

func sign(signer crypto.Signer, digest []byte) ([]byte, error) {
	if k, ok := signer.(*rsa.PrivateKey); ok {
		return rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest)
	}
	return nil, fmt.Errorf("a %T cannot sign tokens", signer)
}

func verifySignature(pub crypto.PublicKey, digest, sig []byte) bool {
	if k, ok := pub.(*rsa.PublicKey); ok {
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil
	}
	return false
}

// encodeJOSEHeader is the header of the ring's tokens: kid, then alg.
func encodeJOSEHeader(kid, alg string) string {
	h, _ := json.Marshal(struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}{kid, alg})
	return base64.RawURLEncoding.EncodeToString(h) + "."
}

func publicJWK(kid, alg string, pub crypto.PublicKey) (JWK, error) {
	if k, ok := pub.(*rsa.PublicKey); ok {
		return JWK{Kty: "RSA", Alg: alg, Kid: kid, Use: "sig",
			N: base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	}
	return JWK{}, fmt.Errorf("no JWK for a %T", pub)
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of pub, base64url (43
// characters): the kid of a ring's key.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	var members string // the required members in lexicographic order, no whitespace (RFC 7638 §3.2)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		j, _ := publicJWK("", "", k)
		members = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	default:
		return "", fmt.Errorf("no thumbprint for a %T", pub)
	}
	sum := sha256.Sum256([]byte(members))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// ParsePrivateKeyPEM reads a private key in PKCS#8 ("PRIVATE KEY") or, for
// RSA, PKCS#1 ("RSA PRIVATE KEY") PEM, skipping other blocks. Whether the
// key can sign tokens is the key ring's check.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PRIVATE KEY or RSA PRIVATE KEY PEM block found")
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			signer, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("a %T cannot sign", k)
			}
			return signer, nil
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		}
	}
}

// newSigningKey generates a key of alg for owner, ready to store.
func newSigningKey(owner, alg string, now time.Time) (*SigningKey, error) {
	signer, err := generateSigner(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, err
	}
	kid, err := Thumbprint(signer.Public())
	if err != nil {
		return nil, err
	}
	return &SigningKey{ID: kid, Dialect: owner, Algorithm: alg,
		PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), CreatedAt: now}, nil
}
