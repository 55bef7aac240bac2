package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Test support. These helpers live in a non-test file so that the tests of
// other packages (the gateway's, the CLI's) can run against PostgreSQL too.

const (
	// TestDSNEnv names the environment variable with the DSN of the server
	// tests use; DefaultTestDSN is used when it is unset.
	TestDSNEnv = "TOKENGATE_TEST_POSTGRES_DSN"
	// RequireEnv, set to 1, turns the skip of tests that find no server into
	// a failure (for CI, where a missing server is a broken setup).
	RequireEnv     = "TOKENGATE_REQUIRE_POSTGRES"
	DefaultTestDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	// SkipReportEnv names a file to which a test process notes, in one line,
	// that it skipped tests for want of a server: go test hides the output
	// of passing packages, so the Makefile prints the line after the run.
	SkipReportEnv = "TOKENGATE_SKIP_REPORT"

	testSchemaPrefix = "tg_test_"
	reachTimeout     = 2 * time.Second
)

// reachable caches, per base DSN, whether a server answered.
var reachable sync.Map // string -> error

// TestServerDSN returns the DSN of the test server (from TestDSNEnv, or
// DefaultTestDSN). When no server answers within 2 seconds it skips t, or
// fails it when RequireEnv is 1.
func TestServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(TestDSNEnv)
	if dsn == "" {
		dsn = DefaultTestDSN
	}
	v, ok := reachable.Load(dsn)
	if !ok {
		v, _ = reachable.LoadOrStore(dsn, ping(dsn))
	}
	if err, _ := v.(error); err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: set %s", redactDSN(dsn), TestDSNEnv)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s (%s=1): %v", msg, RequireEnv, err)
		}
		reportSkip(dsn)
		t.Skip(msg)
	}
	return dsn
}

// reportSkip appends the one line the Makefile shows to the file named by
// SkipReportEnv, if any. Every process writes the same line; the Makefile
// prints it once.
func reportSkip(dsn string) {
	path := os.Getenv(SkipReportEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "PostgreSQL tests skipped: no server answered at %s. Start one there (or set %s) and run %s=1 make test\n",
		redactDSN(dsn), TestDSNEnv, RequireEnv)
}

// ping connects to dsn and returns the error, or struct{}{} when a server
// answered (sync.Map cannot tell a stored nil from a missing key).
func ping(dsn string) any {
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	conn, err := adminConn(ctx, dsn)
	if err != nil {
		return err
	}
	err = conn.Ping(ctx)
	_ = conn.Close(context.Background())
	if err != nil {
		return err
	}
	return struct{}{}
}

func adminConn(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout <= 0 || cfg.ConnectTimeout > reachTimeout {
		cfg.ConnectTimeout = reachTimeout
	}
	cfg.RuntimeParams["application_name"] = "tokengate-test-admin"
	return pgx.ConnectConfig(ctx, cfg)
}

// TestSchema returns the name of a fresh schema on the test server, which
// does not exist yet and is dropped (with everything in it) when t ends. It
// suits Options.Schema, which creates it; TestDSN creates one itself.
func TestSchema(t testing.TB) (serverDSN, schema string) {
	t.Helper()
	serverDSN = TestServerDSN(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema = testSchemaPrefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		conn, err := adminConn(ctx, serverDSN)
		if err != nil {
			t.Logf("dropping test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "SET lock_timeout = '10s'"); err != nil {
			t.Logf("dropping test schema %s: %v", schema, err)
			return
		}
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
	})
	return serverDSN, schema
}

// TestDSN creates a fresh, empty schema on the test server and returns a DSN
// whose search_path is that schema, and whose application_name is the
// schema's name too (so a test can find its own sessions in
// pg_stat_activity). The schema is dropped when t ends. Without a server, t
// is skipped (see TestServerDSN).
func TestDSN(t testing.TB) string {
	t.Helper()
	serverDSN, schema := TestSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := adminConn(ctx, serverDSN)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("creating test schema %s: %v", schema, err)
	}
	return withParams(serverDSN, map[string]string{"search_path": schema, "application_name": schema})
}

// OpenTest opens a Store on a fresh schema of the test server (see TestDSN)
// and closes it when t ends.
func OpenTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), TestDSN(t), Options{})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// withParams sets parameters of a DSN, URL or key=value form. Values must
// not need quoting.
func withParams(dsn string, params map[string]string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			for k, v := range params {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	for k, v := range params {
		dsn += " " + k + "=" + v
	}
	return dsn
}
