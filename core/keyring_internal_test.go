package core

import (
	"testing"
	"time"
)

// A periodic reload re-reads the rows but does not re-parse known keys, and
// picks up a retirement.
func TestReloadReusesParsedKeys(t *testing.T) {
	now := time.Unix(1693512364, 0)
	sk, err := newSigningKey("acceleration", AlgRS256, now)
	if err != nil {
		t.Fatal(err)
	}
	r := &KeyRing{alg: AlgRS256}
	first, err := r.parseKeySet([]*SigningKey{sk}, nil)
	if err != nil || first.active == nil || first.active.kid != sk.ID {
		t.Fatalf("first load: %v %+v", err, first)
	}
	retired := *sk
	retired.RetiredAt, retired.VerifyUntil = now, now.Add(time.Hour)
	second, err := r.parseKeySet([]*SigningKey{&retired}, first)
	if err != nil {
		t.Fatal(err)
	}
	if second.active != nil || len(second.keys) != 1 || second.keys[0].signer != first.active.signer {
		t.Fatalf("second load: %+v", second)
	}
	if !second.keys[0].retired || first.active.retired {
		t.Fatal("retirement not picked up, or the first snapshot was mutated")
	}
	if !second.keys[0].publishedAt(now.Add(59*time.Minute)) || second.keys[0].publishedAt(now.Add(time.Hour)) {
		t.Fatal("VerifyUntil not honoured")
	}
}
