// Package openapitest helps tests check that a gateway's exchanges are held
// to its dialects' OpenAPI documents: it makes a document disagree with
// the behaviour.
package openapitest

import (
	"encoding/json"
	"testing"
)

// Tampered is a document (JSON, as the admin API serves it) with its
// examples removed, so that only the exchanges can disagree with it, and
// edit applied.
func Tampered(t testing.TB, raw []byte, edit func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	dropExamples(doc)
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dropExamples(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "example")
		delete(v, "examples")
		for _, c := range v {
			dropExamples(c)
		}
	case []any:
		for _, c := range v {
			dropExamples(c)
		}
	}
}

// At follows keys down a decoded document.
func At(doc map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		doc = doc[k].(map[string]any)
	}
	return doc
}
