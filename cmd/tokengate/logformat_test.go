package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestLogFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		json   bool
	}{{"json", true}, {"text", false}, {"auto", true}, {"", true}} {
		var buf bytes.Buffer
		newLogger(&buf, "info", tc.format).Info("request", "request_id", "abc")
		var line map[string]any
		isJSON := json.Unmarshal(buf.Bytes(), &line) == nil
		if isJSON != tc.json {
			t.Errorf("format %q: %s", tc.format, buf.String())
		}
		if isJSON && line["request_id"] != "abc" || !isJSON && !strings.Contains(buf.String(), "request_id=abc") {
			t.Errorf("format %q lost the attribute: %s", tc.format, buf.String())
		}
	}
	// auto on a file that is not a terminal is JSON too.
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("a regular file is a terminal")
	}
}

func TestLogFormatFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"serve", "--log-format", "xml"}, &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "log_format") {
		t.Fatalf("serve --log-format xml: exit %d, %s", code, errs.String())
	}
}
