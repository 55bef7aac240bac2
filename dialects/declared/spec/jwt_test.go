package spec

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

func rsaKey(t testing.TB) *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		testKey = k
	})
	return testKey
}

// TestJWTMinter: the Microsoft example's access token is an RS256 JWT whose
// header and claims keep the declared order, with typed claims, and whose
// signature verifies with the public key.
func TestJWTMinter(t *testing.T) {
	s := loadSpec(t, "../../../docs/examples/microsoft.yaml")
	if !s.NeedsSigningKey() {
		t.Fatal("the Microsoft spec signs JWTs")
	}
	key := rsaKey(t)
	ring, err := core.NewKeyRing(nil, nil, core.KeyRingOptions{Static: key})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := core.Thumbprint(&key.PublicKey)
	prof, err := s.Profile("ms", rand.Reader, ring)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok, err := prof.AccessMinter.Mint(context.Background(), core.Claims{ID: "jti-1", Kind: core.TokenAccess,
		ClientID: "app-1", UserID: "u1", Scopes: []string{"User.Read", "Mail.Read"}, IssuedAt: now, ExpiresAt: now.Add(3599 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWS", tok)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(header) != `{"typ":"JWT","alg":"RS256","kid":"`+kid+`"}` {
		t.Errorf("header %s", header)
	}
	wantClaims := `{"aud":"00000003-0000-0000-c000-000000000000",` +
		`"iss":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",` +
		`"iat":1772366400,"nbf":1772366400,"exp":1772369999,"azp":"app-1","scp":"User.Read Mail.Read",` +
		`"sub":"u1","tid":"9188040d-6c67-4c5b-b112-36a304b66dad","uti":"jti-1","ver":"2.0"}`
	if string(claims) != wantClaims {
		t.Errorf("claims\n got %s\nwant %s", claims, wantClaims)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("signature: %v", err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(claims, &decoded); err != nil || decoded["exp"] != float64(1772369999) {
		t.Errorf("exp is not a number: %v %v", decoded["exp"], err)
	}
	// {subject} falls back to the client for a client acting for itself.
	tok, _ = prof.AccessMinter.Mint(context.Background(), core.Claims{ID: "j2", ClientID: "app-1", IssuedAt: now, ExpiresAt: now})
	claims, _ = base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if !strings.Contains(string(claims), `"sub":"app-1"`) {
		t.Errorf("client credentials subject: %s", claims)
	}
}

func TestProfileNeedsKeyForJWT(t *testing.T) {
	s := loadSpec(t, "../../../docs/examples/microsoft.yaml")
	if _, err := s.Profile("ms", rand.Reader, nil); err == nil {
		t.Fatal("a JWT format without a key ring must fail")
	}
}
