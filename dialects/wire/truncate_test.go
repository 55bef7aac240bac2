package wire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2000 bytes
	got := Truncate(long, 256)
	if len(got) > 256 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…[truncated 1770 bytes]") {
		t.Fatalf("%d bytes: %q", len(got), got)
	}
	if Truncate(got, 256) != got {
		t.Fatal("truncating twice changes the value")
	}
	if Truncate("short", 256) != "short" {
		t.Fatal("a short value changed")
	}
}
