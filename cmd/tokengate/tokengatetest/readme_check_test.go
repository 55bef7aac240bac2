package tokengatetest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEExampleIsCompiled: the Go code block of the README's "Use it
// in your tests" section is readme_test.go (which go test compiles and
// runs), apart from the package clause and blank lines.
func TestREADMEExampleIsCompiled(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	if i := strings.Index(section, "## Use it in your tests"); i >= 0 {
		section = section[i:]
	}
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(section)
	if block == nil {
		t.Fatal(`no Go code block under "## Use it in your tests" in README.md`)
	}
	file, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := normalize(block[1]), normalize(string(file)); got != want {
		t.Fatalf("README.md's Go example and readme_test.go differ; make them one.\nREADME:\n%s\nreadme_test.go:\n%s", got, want)
	}
}

// normalize drops the package clause, blank lines and trailing spaces.
func normalize(src string) string {
	var out []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" || strings.HasPrefix(line, "package ") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
