package control

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tokengate/tokengate/dialects/wire"
)

// Entry is one journaled request. Secrets in headers and parameters are
// redacted before the entry is stored.
type Entry struct {
	Time      time.Time `json:"time"`
	Replica   string    `json:"replica,omitempty"`
	RequestID string    `json:"request_id"`
	Dialect   string    `json:"dialect"`
	Route     string    `json:"route"`
	Method    string    `json:"method"`
	ClientID  string    `json:"client_id"`
	GrantType string    `json:"grant_type"`
	Status    int       `json:"status"`
	LatencyMS float64   `json:"latency_ms"`
	Error     string    `json:"error"`
	ErrorID   string    `json:"error_id"`
	Fault     string    `json:"fault,omitempty"` // id of the fault rule that answered
	// Family is the token family the request issued, rotated, consumed or
	// revoked, as the engine reported it; Reuse marks a request whose
	// replayed code or refresh token made reuse detection revoke it.
	Family  string              `json:"family,omitempty"`
	Reuse   bool                `json:"reuse,omitempty"`
	Headers map[string]string   `json:"headers"`
	Params  map[string][]string `json:"params"`
}

// Filter selects journal entries; zero fields match anything.
type Filter struct {
	Dialect  string
	ClientID string
	Family   string
	Status   int
	Since    time.Time
	Limit    int
}

func (f Filter) match(e *Entry) bool {
	return (f.Dialect == "" || e.Dialect == f.Dialect) &&
		(f.ClientID == "" || e.ClientID == f.ClientID) &&
		(f.Family == "" || e.Family == f.Family) &&
		(f.Status == 0 || e.Status == f.Status) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}

// What one journal entry may hold, whatever a client sends: each stored
// string (a header's or parameter's name or value, the client id, ...) is
// cut to MaxValueBytes, ending in a marker such as "…[truncated 131072
// bytes]", and at most MaxFields headers and parameters are kept. So an
// entry costs at most about 100 KB, and the journal's byte budget always
// holds many.
const (
	MaxValueBytes = 256
	MaxFields     = 100
	// DefaultMaxBytes is the journal's default byte budget.
	DefaultMaxBytes = 8 << 20
)

// Journal keeps the newest requests within a number of entries and a byte
// budget (the approximate memory its entries hold), dropping the oldest.
type Journal struct {
	mu       sync.Mutex
	entries  []Entry // a ring: start is the oldest of n
	sizes    []int
	start, n int
	bytes    int64
	maxBytes int64
}

// NewJournal keeps the last size entries within DefaultMaxBytes; size 0
// disables the journal.
func NewJournal(size int) *Journal {
	return &Journal{entries: make([]Entry, size), sizes: make([]int, size), maxBytes: DefaultMaxBytes}
}

// SetMaxBytes sets the byte budget (0: DefaultMaxBytes), dropping the
// oldest entries that no longer fit.
func (j *Journal) SetMaxBytes(n int64) {
	if n <= 0 {
		n = DefaultMaxBytes
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.maxBytes = n
	j.shrink(0)
}

// Enabled reports whether entries are kept at all.
func (j *Journal) Enabled() bool { return len(j.entries) > 0 }

// Add stores e, bounded (see MaxValueBytes), dropping the oldest entries
// when the journal is full in entries or bytes, and returns the entry as
// stored.
func (j *Journal) Add(e Entry) Entry {
	if !j.Enabled() {
		return e
	}
	e, size := bound(e)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.shrink(size)
	i := (j.start + j.n) % len(j.entries)
	j.entries[i], j.sizes[i] = e, size
	j.n++
	j.bytes += int64(size)
	return e
}

// shrink drops the oldest entries until one more of size fits.
func (j *Journal) shrink(size int) {
	for j.n > 0 && (j.n == len(j.entries) && size > 0 || j.bytes+int64(size) > j.maxBytes) {
		j.bytes -= int64(j.sizes[j.start])
		j.entries[j.start], j.sizes[j.start] = Entry{}, 0
		j.start = (j.start + 1) % len(j.entries)
		j.n--
	}
}

// Bytes reports the approximate memory the entries hold.
func (j *Journal) Bytes() int64 {
	_, b := j.Stats()
	return b
}

// Stats reports how many entries the journal holds and the approximate
// memory they hold (the metrics read both at once).
func (j *Journal) Stats() (entries int, bytes int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n, j.bytes
}

// List returns matching entries, newest first.
func (j *Journal) List(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []Entry{}
	for k := j.n - 1; k >= 0; k-- {
		if e := &j.entries[(j.start+k)%len(j.entries)]; f.match(e) {
			out = append(out, *e)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out
}

// Clear forgets every entry.
func (j *Journal) Clear() {
	j.mu.Lock()
	clear(j.entries)
	clear(j.sizes)
	j.start, j.n, j.bytes = 0, 0, 0
	j.mu.Unlock()
}

// Per-value and per-entry overheads of the size estimate: string and
// slice headers, map slots, the Entry struct itself.
const (
	stringOverhead = 16
	fieldOverhead  = 64
	entryOverhead  = 256
)

// bound returns e with every string cut to MaxValueBytes and copied (a
// substring would keep a whole request body alive), at most MaxFields
// headers and parameters, a time JSON can write, and its approximate size.
func bound(e Entry) (Entry, int) {
	size := entryOverhead
	str := func(s string) string {
		s = wire.Truncate(s, MaxValueBytes)
		size += len(s) + stringOverhead
		return strings.Clone(s)
	}
	e.Time = JSONTime(e.Time)
	e.Replica, e.RequestID, e.Dialect, e.Route, e.Method = str(e.Replica), str(e.RequestID), str(e.Dialect), str(e.Route), str(e.Method)
	e.ClientID, e.GrantType, e.Error, e.ErrorID, e.Fault = str(e.ClientID), str(e.GrantType), str(e.Error), str(e.ErrorID), str(e.Fault)
	e.Family = str(e.Family)
	if e.Headers != nil {
		h := make(map[string]string, min(len(e.Headers), MaxFields))
		for k, v := range e.Headers {
			if len(h) == MaxFields-1 && len(e.Headers) > MaxFields {
				h[omitted] = fmt.Sprintf("[%d more headers]", len(e.Headers)-len(h))
				break
			}
			h[str(k)] = str(v)
			size += fieldOverhead
		}
		e.Headers = h
	}
	if e.Params != nil {
		p := make(map[string][]string, min(len(e.Params), MaxFields))
		kept := 0 // values, across parameters
		for k, vals := range e.Params {
			room := MaxFields - 1 - kept // one left for the marker
			if room <= 0 {
				p[omitted] = []string{fmt.Sprintf("[%d more parameters]", len(e.Params)-len(p))}
				break
			}
			out := make([]string, 0, min(len(vals), room))
			for _, v := range vals[:min(len(vals), room)] {
				out = append(out, str(v))
			}
			p[str(k)] = out
			kept += len(out)
			size += fieldOverhead
		}
		e.Params = p
	}
	return e, size
}

// omitted is the key under which an entry says how many fields it left out.
const omitted = "…"

// JSONTime is t, or the nearest time RFC 3339 (and so JSON) can write when
// t lies outside the years 0000–9999: a listing never fails because of one
// stored time (the clock cannot produce such times; an older build's could).
func JSONTime(t time.Time) time.Time {
	switch lo, hi := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC); {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}
