package tokengatetest_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
)

// The example (New and Close, on a temporary database) leaves nothing in
// the temporary directory.
func TestExampleLeavesNothingBehind(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	stdout := os.Stdout
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = devNull // the example prints its output
	ExampleNew()
	os.Stdout = stdout
	devNull.Close()
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

// Close stops the gateway at once and may be called again (Start's
// t.Cleanup does).
func TestCloseStopsAndIsIdempotent(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{YAML: "dialects:\n  oauth2: {}\n"})
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(g.URL + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("the gateway still answers after Close: %d", resp.StatusCode)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
