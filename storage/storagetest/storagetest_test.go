package storagetest

import (
	"reflect"
	"testing"
)

// The round-trip checks put a full* fixture and compare what comes back with
// Diff. Together the two tests below make a field added to a core model
// tested on every backend: the first fails until the fixture sets the new
// field, and the second shows Diff compares it, so a backend that does not
// store it fails the round trip.

// fullFixtures are the fixtures that set every field of their model.
func fullFixtures() map[string]any {
	return map[string]any{
		"fullClient":        fullClient("c"),
		"fullUser":          fullUser("u", "ada"),
		"fullAuthorization": fullAuthorization(),
		"fullToken":         fullToken("t"),
		"fullSigningKey":    fullSigningKey(),
		"fullDialectSpec":   fullDialectSpec("d"),
	}
}

func TestFullFixturesSetEveryField(t *testing.T) {
	for name, v := range fullFixtures() {
		rv := reflect.ValueOf(v).Elem()
		for i := range rv.NumField() {
			f, ft := rv.Field(i), rv.Type().Field(i)
			if f.IsZero() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
				t.Errorf("%s leaves %s.%s zero: set it, so the round trip checks backends keep it", name, rv.Type(), ft.Name)
			}
			// A map of structs (User.Linked): every field set in some value.
			if f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.Struct {
				for j := range f.Type().Elem().NumField() {
					set := false
					for _, k := range f.MapKeys() {
						set = set || !f.MapIndex(k).Field(j).IsZero()
					}
					if !set {
						t.Errorf("%s sets %s.%s in no value of %s", name, f.Type().Elem(), f.Type().Elem().Field(j).Name, ft.Name)
					}
				}
			}
		}
	}
}

func TestDiffSeesEveryField(t *testing.T) {
	for name, v := range fullFixtures() {
		want := reflect.ValueOf(v).Elem()
		if d := Diff(v, v); d != "" {
			t.Fatalf("Diff of %s with itself: %s", name, d)
		}
		for i := range want.NumField() {
			got := reflect.New(want.Type())
			got.Elem().Set(want)
			got.Elem().Field(i).SetZero()
			if Diff(v, got.Interface()) == "" {
				t.Errorf("Diff misses a lost %s.%s", want.Type(), want.Type().Field(i).Name)
			}
		}
	}
	// A field lost inside a map value shows too.
	want := fullUser("u", "ada")
	for p, acct := range want.Linked {
		av := reflect.ValueOf(acct)
		for j := range av.NumField() {
			if av.Field(j).IsZero() {
				continue
			}
			lost := acct
			reflect.ValueOf(&lost).Elem().Field(j).SetZero()
			got := fullUser("u", "ada") // a map of its own
			got.Linked[p] = lost
			if Diff(want, got) == "" {
				t.Errorf("Diff misses a lost Linked[%s].%s", p, av.Type().Field(j).Name)
			}
		}
	}
}
