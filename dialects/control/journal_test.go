package control

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The journal flood: 1,000 requests with ~128 KB in their
// parameters and headers. The journal keeps the newest entries within its
// byte budget, each value cut with a marker, and holds no reference to the
// request bodies (which used to keep 1.45 GB live).
func TestJournalBoundedInBytes(t *testing.T) {
	const budget = 1 << 20
	j := NewJournal(1000)
	j.SetMaxBytes(budget)
	before := liveHeap()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		big := strings.Repeat(fmt.Sprintf("%04d", i), 32<<10) // 128 KB, fresh each time
		j.Add(Entry{Time: t0.Add(time.Duration(i) * time.Second), Status: 400, ClientID: big[:64<<10],
			Headers: map[string]string{"User-Agent": big, big[:1000]: "x"},
			Params:  map[string][]string{"client_id": {big[:64<<10]}, "grant_type": {"client_credentials"}}})
	}
	if b := j.Bytes(); b > budget {
		t.Fatalf("journal holds %d bytes, budget %d", b, budget)
	}
	list := j.List(Filter{})
	if len(list) < 100 {
		t.Fatalf("only %d entries kept in %d bytes", len(list), budget)
	}
	if !list[0].Time.Equal(t0.Add(999 * time.Second)) {
		t.Fatalf("newest entry is %v, want the last one added", list[0].Time)
	}
	e := list[0]
	for _, v := range []string{e.ClientID, e.Headers["User-Agent"], e.Params["client_id"][0]} {
		if len(v) > MaxValueBytes || !strings.Contains(v, "…[truncated ") || !strings.HasPrefix(v, "0999") {
			t.Fatalf("stored value %q", v)
		}
	}
	raw, err := json.Marshal(list)
	if err != nil || len(raw) > 2*budget {
		t.Fatalf("listing: %d bytes, %v", len(raw), err)
	}
	if grew := liveHeap() - before; grew > 4*budget {
		t.Fatalf("live heap grew by %d bytes for a %d byte journal", grew, budget)
	}
	runtime.KeepAlive(j)
}

func TestJournalFieldCaps(t *testing.T) {
	hdr, params := map[string]string{}, map[string][]string{}
	for i := range 500 {
		hdr[fmt.Sprint("X-H", i)] = "v"
		params[fmt.Sprint("p", i)] = []string{"a", "b"}
	}
	e, _ := bound(Entry{Headers: hdr, Params: params})
	if len(e.Headers) != MaxFields || !strings.Contains(e.Headers[omitted], "more headers") {
		t.Fatalf("%d headers kept, marker %q", len(e.Headers), e.Headers[omitted])
	}
	n := 0
	for _, v := range e.Params {
		n += len(v)
	}
	if n > MaxFields || !strings.Contains(e.Params[omitted][0], "more parameters") {
		t.Fatalf("%d parameter values kept, marker %v", n, e.Params[omitted])
	}
}

// A stored time JSON cannot write never makes a listing fail.
func TestJournalListingSurvivesAnyTime(t *testing.T) {
	j := NewJournal(3)
	j.Add(Entry{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	j.Add(Entry{Time: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)})
	if _, err := json.Marshal(j.List(Filter{})); err != nil {
		t.Fatal(err)
	}
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
