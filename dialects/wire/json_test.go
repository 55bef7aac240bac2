package wire_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/wire"
)

// TestJSONUnescaped: wire.JSON writes text as is: "Bearer <token>", not
// "Bearer \u003ctoken\u003e".
func TestJSONUnescaped(t *testing.T) {
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	if err := wire.JSON(c, 401, map[string]string{"error": "must be Bearer <token> & more"}); err != nil {
		t.Fatal(err)
	}
	if got := rec.Body.String(); got != `{"error":"must be Bearer <token> & more"}`+"\n" || rec.Code != 401 ||
		rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q %q", rec.Code, rec.Header().Get("Content-Type"), got)
	}
}

// TestDialectsWriteJSONThroughWire: every dialect package (one that calls
// dialects.Register) writes JSON with wire.JSON, never echo's c.JSON,
// which HTML-escapes.
func TestDialectsWriteJSONThroughWire(t *testing.T) {
	files, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	byDir := map[string][]string{}
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			byDir[filepath.Dir(f)] = append(byDir[filepath.Dir(f)], f)
		}
	}
	dialects := 0
	for dir, fs := range byDir {
		var src strings.Builder
		for _, f := range fs {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
		if !strings.Contains(src.String(), "dialects.Register(") {
			continue
		}
		dialects++
		if strings.Contains(src.String(), "c.JSON(") {
			t.Errorf("%s writes JSON with c.JSON: use wire.JSON", dir)
		}
	}
	if dialects < 5 {
		t.Fatalf("found %d dialect packages, want at least 5", dialects)
	}
}
