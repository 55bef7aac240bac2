package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

// scopesFromJSON decodes exactly as encoding/json does, fast path or not.
func FuzzScopesFromJSON(f *testing.F) {
	for _, seed := range []string{"", "null", "[]", `["read"]`, `["read","write"]`, `[""]`, `["",""]`,
		`["a\"b"]`, `["a\\b"]`, `["\u003cx\u003e"]`, `["a","b`, `["a"],["b"]`, `["a" , "b"]`, "[\"\xff\"]",
		"[\"a\x01\"]", `["a"]x`, `{"a":1}`, `[1]`, `["ü","ñ"]`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fast, full []string
		fastErr := scopesFromJSON(s, &fast)
		fullErr := fromJSON(s, &full)
		if (fastErr == nil) != (fullErr == nil) {
			t.Fatalf("%q: error %v, encoding/json's %v", s, fastErr, fullErr)
		}
		if fullErr == nil && !reflect.DeepEqual(fast, full) {
			t.Fatalf("%q: %#v, encoding/json gives %#v", s, fast, full)
		}
	})
}

// What the store writes (json.Marshal) reads back the same.
func TestScopesRoundTrip(t *testing.T) {
	for _, scopes := range [][]string{nil, {}, {"read"}, {"read", "write"}, {"a<b>&c"}, {"ü", `q"uote`, `back\slash`}, {""}} {
		raw, _ := json.Marshal(scopes)
		var got []string
		if err := scopesFromJSON(string(raw), &got); err != nil || !reflect.DeepEqual(got, scopes) {
			t.Errorf("%s: %#v, %v", raw, got, err)
		}
	}
}
