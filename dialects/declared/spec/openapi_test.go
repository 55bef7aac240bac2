package spec_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/declared/spec"
)

// TestOpenAPIIsDeterministic: the same spec always gets the same document
// (sample tokens and ids come from a fixed stream, maps are walked in
// order), so `tokengate openapi` output can be committed and diffed.
func TestOpenAPIIsDeterministic(t *testing.T) {
	data, err := os.ReadFile("../testdata/hurdlr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for range 3 {
		s, err := spec.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(s.OpenAPI(spec.DescribeOptions{BaseURL: "http://x",
			ForcedKind: func(int) core.Kind { return core.KindServerError }}))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	if docs[0] != docs[1] || docs[1] != docs[2] {
		t.Fatal("two documents of the same spec differ")
	}
	for _, want := range []string{"pattern: ^[0-9a-f]{64}\\.[0-9a-f]{32}$", "const: token", "- userId"} {
		if !strings.Contains(docs[0], want) {
			t.Errorf("the document lacks %q", want)
		}
	}
}
