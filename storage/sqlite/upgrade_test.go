package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/storage/internal/migrate"
	"github.com/tokengate/tokengate/storage/internal/sqlstoretest"
	"github.com/tokengate/tokengate/storage/storagetest"
)

// testdata/release.db was written by the last release whose SQLite schema
// came from gorm's automatic migration (commit f24f488), and
// testdata/release.json holds every row that release read back from it;
// testdata/mkrelease made both. A newer build must open that database,
// read every row back the same, and write to it.

// releaseRows is the content of release.json.
type releaseRows struct {
	Clients        []*core.Client
	Users          []*core.User
	Authorizations []*core.Authorization
	Tokens         []*core.Token
	SigningKeys    []*core.SigningKey
}

// releaseDB copies the fixture to a fresh directory and returns its path.
func releaseDB(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "release.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "release.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantReleaseRows(t *testing.T) releaseRows {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want releaseRows
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Clients) == 0 || len(want.Users) == 0 || len(want.Authorizations) == 0 || len(want.Tokens) == 0 ||
		len(want.SigningKeys) == 0 {
		t.Fatalf("release.json lacks rows of some table: %+v", want)
	}
	return want
}

// readRows reads every row as mkrelease did, and each token once more
// through GetToken's own path.
func readRows(t *testing.T, s *Store) releaseRows {
	t.Helper()
	ctx := t.Context()
	var got releaseRows
	var errs [5]error
	got.Clients, errs[0] = s.ListClients(ctx)
	got.Users, errs[1] = s.ListUsers(ctx)
	got.Authorizations, errs[2] = s.ListAuthorizations(ctx)
	got.Tokens, errs[3] = s.ListTokens(ctx, core.TokenFilter{})
	got.SigningKeys, errs[4] = s.ListSigningKeys(ctx, "acceleration")
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	for _, tk := range got.Tokens {
		one, err := s.GetToken(ctx, tk.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if d := storagetest.Diff(tk, one); d != "" {
			t.Errorf("GetToken(%.12s…) differs from ListTokens (-list +get):\n%s", tk.Digest, d)
		}
	}
	return got
}

func checkReleaseRows(t *testing.T, s *Store, what string) {
	t.Helper()
	want := wantReleaseRows(t)
	// Tokens issued at the same instant may list in either order.
	byDigest := func(a, b *core.Token) int { return strings.Compare(a.Digest, b.Digest) }
	got := readRows(t, s)
	slices.SortFunc(want.Tokens, byDigest)
	slices.SortFunc(got.Tokens, byDigest)
	if d := storagetest.Diff(want, got); d != "" {
		t.Errorf("%s: rows differ from what the release read (-release +now):\n%s", what, d)
	}
}

func TestUpgradeReleaseDatabase(t *testing.T) {
	ctx := t.Context()
	path := releaseDB(t)
	s := openT(t, path, Options{})
	if v, err := s.SchemaVersion(ctx); err != nil || v != schemaVersion {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
	}
	checkReleaseRows(t, s, "the release's database")

	// Step 1 re-created nothing: the adopted schema is a new database's.
	fresh := openT(t, filepath.Join(t.TempDir(), "fresh.db"), Options{})
	if d := cmp.Diff(schemaOf(t, fresh), schemaOf(t, s)); d != "" {
		t.Errorf("the release's schema differs from a new database's (-new +release):\n%s", d)
	}

	// Writes work, on every table, and the constraints hold.
	now := time.Date(2031, time.March, 5, 0, 0, 0, 0, time.UTC)
	rotated := &core.Token{Digest: core.Digest("after-upgrade"), Kind: core.TokenRefresh, ClientID: "client-full",
		UserID: "u-full", FamilyID: "fam-code", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	next := &core.Authorization{TokenDigest: core.Digest("after-upgrade-auth"), UserID: "u-full", ClientID: "client-full"}
	for _, err := range []error{
		s.PutClient(ctx, &core.Client{ID: "client-new", Grants: []core.GrantType{core.GrantClientCredentials}}),
		s.PutUser(ctx, &core.User{ID: "u-new", Username: "grace"}),
		s.PutAuthorization(ctx, next),
		s.Exchange(ctx, core.Digest("release:refresh-2"), now, rotated),
		s.RevokeToken(ctx, core.Digest("release:bare"), core.Revocation{At: now, Cause: core.RevokeAdmin}),
		s.PutSigningKey(ctx, &core.SigningKey{ID: "kid-newer", Dialect: "acceleration", Algorithm: "RS256", CreatedAt: now}),
	} {
		if err != nil {
			t.Fatalf("writing to the upgraded database: %v", err)
		}
	}
	if want := wantReleaseRows(t).Authorizations; next.ID <= want[len(want)-1].ID {
		t.Errorf("a fresh authorization ID %d does not follow the release's %d", next.ID, want[len(want)-1].ID)
	}
	if err := s.PutUser(ctx, &core.User{ID: "u-other", Username: "ada"}); !errors.Is(err, core.ErrConflict) {
		t.Errorf("PutUser of a username the release stored: %v, want core.ErrConflict", err)
	}
	if err := s.InsertTokens(ctx, rotated); !errors.Is(err, core.ErrConflict) {
		t.Errorf("InsertTokens of a stored digest: %v, want core.ErrConflict", err)
	}
	if err := s.Exchange(ctx, core.Digest("release:refresh"), now); !errors.Is(err, core.ErrConsumed) {
		t.Errorf("Exchange of a token the release consumed: %v, want core.ErrConsumed", err)
	}
	if got, err := s.GetToken(ctx, rotated.Digest); err != nil || storagetest.Diff(rotated, got) != "" {
		t.Errorf("a token written after the upgrade: %+v, %v", got, err)
	}
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("IntegrityCheck = %q, %v", res, err)
	}
}

// A release's database whose schema_version is gone (or never was) is at
// version 0; step 1 adopts it and keeps every row.
func TestAdoptReleaseDatabaseWithoutVersion(t *testing.T) {
	path := releaseDB(t)
	db, err := sql.Open("sqlite3", fileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DROP TABLE schema_version"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path, Options{})
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != schemaVersion {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
	}
	checkReleaseRows(t, s, "the release's database without schema_version")
}

// A further step, as a newer build adds, applies to the release's database
// and loses nothing; this build then refuses the database.
func TestMigrateReleaseDatabaseForward(t *testing.T) {
	ctx := t.Context()
	path := releaseDB(t)
	s := openT(t, path, Options{})
	next := sqlstoretest.CheckMigrate(t, s.w, migrations, func(steps []migrate.Step) (int, int, error) {
		return migrate.Run(ctx, s.w, migrator, steps)
	})
	if v, err := s.SchemaVersion(ctx); err != nil || v != migrate.Latest(next) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, migrate.Latest(next))
	}
	checkReleaseRows(t, s, "after a further step")
	tk := &core.Token{Digest: core.Digest("wider"), Kind: core.TokenAccess, ClientID: "c"}
	if err := s.InsertTokens(ctx, tk); err != nil {
		t.Errorf("InsertTokens into the wider table: %v", err)
	}
	_ = s.Close()
	var ve *SchemaVersionError
	if s2, err := Open(ctx, path, Options{}); !errors.As(err, &ve) {
		if err == nil {
			_ = s2.Close()
		}
		t.Errorf("Open of the newer database: %v, want a *SchemaVersionError", err)
	}
}

func schemaOf(t *testing.T, s *Store) sqlstoretest.Schema {
	t.Helper()
	db, err := s.r.DB()
	if err != nil {
		t.Fatal(err)
	}
	return sqlstoretest.SQLiteSchema(t, db)
}

// Stores opening one new file at once (processes, say) migrate it once: the
// first migration holds the write lock, the others then find nothing to do.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), path, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	var versions []int
	if err := stores[0].r.Raw("SELECT version FROM schema_version ORDER BY version").Scan(&versions).Error; err != nil {
		t.Fatal(err)
	}
	if len(versions) != schemaVersion || versions[len(versions)-1] != schemaVersion {
		t.Errorf("schema_version after %d concurrent Opens: %v, want 1..%d once each", len(stores), versions, schemaVersion)
	}
}
