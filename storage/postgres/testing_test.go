package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSkipIsReported: a test that finds no server notes one line in the
// file the Makefile names, saying how to run the PostgreSQL tests.
func TestSkipIsReported(t *testing.T) {
	if os.Getenv(RequireEnv) == "1" {
		t.Skip("with " + RequireEnv + "=1 a missing server fails instead")
	}
	report := filepath.Join(t.TempDir(), "skips")
	t.Setenv(SkipReportEnv, report)
	t.Setenv(TestDSNEnv, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	t.Run("no server", func(t *testing.T) { TestServerDSN(t) })
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	line := string(b)
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, "PostgreSQL tests skipped") ||
		!strings.Contains(line, RequireEnv+"=1 make test") || !strings.Contains(line, "127.0.0.1:1") {
		t.Fatalf("report %q", line)
	}
}
