package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/sqlstore"
)

// Every field of a token survives the encoded read, whatever its text holds
// (the encoding's own separators, digits that look like lengths, multi-byte
// characters, nothing), and so do unset times.
func TestEncodedReadRoundTrips(t *testing.T) {
	ctx := t.Context()
	s := openT(t, filepath.Join(t.TempDir(), "record.db"), Options{})
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.UTC)
	tokens := []*core.Token{
		{Digest: "plain", Kind: core.TokenAccess, ClientID: "c", Dialect: "oauth2", FamilyID: "f", IssuedAt: at,
			ExpiresAt: at.Add(time.Hour)},
		{Digest: "hostile", Kind: core.TokenCode, ClientID: "12:ab,c", UserID: "ü:,0:", Dialect: ",,::",
			Scopes: []string{"a:b", "3:x", "ñ"}, FamilyID: "9", IssuedAt: at, ExpiresAt: at.Add(time.Minute),
			AuthTime: at.Add(-time.Hour), ConsumedAt: at.Add(time.Second), RevokedAt: at.Add(2 * time.Second),
			RedirectURI: "https://app.example/cb?a=1,2&b=3:4", CodeChallenge: "0:", CodeChallengeMethod: "S256",
			Details: core.TokenDetails{Nonce: "n:1,2", Audience: []string{"x,y"}}},
		{Digest: "empty", Kind: core.TokenRefresh},
	}
	for _, tk := range tokens {
		if err := s.InsertTokens(ctx, tk); err != nil {
			t.Fatal(err)
		}
		// The database's encoding and the one the token read cache keeps
		// of a row the writer committed (encodeToken) are the same.
		fromDB, err := s.reads.read(ctx, tk.Digest)
		if err != nil {
			t.Fatalf("%s: %v", tk.Digest, err)
		}
		rows, err := sqlstore.TokenRows[int64]([]*core.Token{tk})
		if err != nil {
			t.Fatal(err)
		}
		if written := encodeToken(&rows[0]); written != fromDB {
			t.Errorf("%s: encoded as written %q, as read %q", tk.Digest, written, fromDB)
		}
		s.cache.clear() // read it from the database
		for _, from := range []string{"database", "cache"} {
			got, err := s.GetToken(ctx, tk.Digest)
			if err != nil {
				t.Fatalf("%s from the %s: %v", tk.Digest, from, err)
			}
			if diff := cmp.Diff(tk, got); diff != "" {
				t.Errorf("%s read back from the %s differently (-stored +read):\n%s", tk.Digest, from, diff)
			}
		}
	}
}

// A malformed record is an error, never a panic or a wrong token.
func FuzzDecodeToken(f *testing.F) {
	for _, seed := range []string{"", "6:access", "1:a1:b1:c1:d2:[]1:f0:0:0:2:{}1,,,,,", "99:x", "-1:", "1:a,", "0:0:0:0:0:0:0:0:0:0:x,,,,,"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		var r tokenRow
		if err := decodeToken(enc, &r); err != nil && err != errBadRecord {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
