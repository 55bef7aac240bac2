package wire

import (
	"fmt"
	"unicode/utf8"
)

// Truncate cuts a client-sent value for a log line or the journal: to at
// most max bytes on a UTF-8 boundary, ending in a marker saying how many
// bytes were cut ("…[truncated 131072 bytes]"). A string within max is
// returned as is, so truncating twice changes nothing.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	keep := max - len(marker(len(s)))
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker(len(s)-keep)
}

func marker(cut int) string { return fmt.Sprintf("…[truncated %d bytes]", cut) }
