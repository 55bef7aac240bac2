package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readDeclared reads what io.ReadAll would, sized by the declared length,
// and keeps every read error (a truncated body is not a short one).
func TestReadDeclaredReadsWhatReadAllWould(t *testing.T) {
	body := "grant_type=client_credentials"
	for _, declared := range []int64{-1, 0, 5, int64(len(body)), int64(len(body)) + 7, 5000} {
		for name, r := range map[string]func() io.Reader{
			"whole":         func() io.Reader { return strings.NewReader(body) },
			"byte by byte":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
			"eof with data": func() io.Reader { return iotest.DataErrReader(strings.NewReader(body)) },
		} {
			got, err := readDeclared(r(), declared)
			if err != nil || string(got) != body {
				t.Errorf("declared %d, %s: %q, %v", declared, name, got, err)
			}
		}
	}
	truncated := io.MultiReader(strings.NewReader("grant_type=cl"), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := readDeclared(truncated, int64(len(body))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated body: %v, want io.ErrUnexpectedEOF", err)
	}
	if got, _ := readDeclared(bytes.NewReader(nil), 0); len(got) != 0 {
		t.Fatalf("empty body read as %q", got)
	}
}

func BenchmarkReadDeclared(b *testing.B) {
	body := []byte("grant_type=client_credentials")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readDeclared(bytes.NewReader(body), int64(len(body))); err != nil {
			b.Fatal(err)
		}
	}
}
