package control

import (
	"fmt"
	"net/http"
	"net/url"
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
	entries  []record // a ring: start is the oldest of n
	start, n int
	bytes    int64
	maxBytes int64
}

// NewJournal keeps the last size entries within DefaultMaxBytes; size 0
// disables the journal.
func NewJournal(size int) *Journal {
	return &Journal{entries: make([]record, size), maxBytes: DefaultMaxBytes}
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

// Add stores e, bounded (see MaxValueBytes) and with its headers and
// parameters redacted by the standard rules, dropping the oldest entries
// when the journal is full in entries or bytes, and returns the entry as
// stored.
func (j *Journal) Add(e Entry) Entry {
	var h http.Header
	if e.Headers != nil {
		h = make(http.Header, len(e.Headers))
		for k, v := range e.Headers {
			h[k] = []string{v}
		}
	}
	r := j.add(e, sent{header: h, params: e.Params, facts: &wire.StandardFacts})
	return r.entry()
}

// add stores e with the headers and parameters a request sent, redacted
// and bounded in one copy, and returns the stored record.
func (j *Journal) add(e Entry, s sent) record {
	if !j.Enabled() {
		return record{e: e}
	}
	r := bound(e, s)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.shrink(r.size)
	j.entries[(j.start+j.n)%len(j.entries)] = r
	j.n++
	j.bytes += int64(r.size)
	return r
}

// shrink drops the oldest entries until one more of size fits.
func (j *Journal) shrink(size int) {
	for j.n > 0 && (j.n == len(j.entries) && size > 0 || j.bytes+int64(size) > j.maxBytes) {
		j.bytes -= int64(j.entries[j.start].size)
		j.entries[j.start] = record{}
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
		if r := &j.entries[(j.start+k)%len(j.entries)]; f.match(&r.e) {
			out = append(out, r.entry())
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

// sent is what a request sent that an entry keeps: its headers and
// parameters, redacted by facts' rules as they are copied.
type sent struct {
	header http.Header
	params url.Values
	facts  *wire.Facts
}

// record is a journal entry as stored: its headers and parameters as
// name and value pairs in one list each, not maps. A map per request cost
// more than anything else the journal does; the maps are built when the
// entry is read (entry), which is rare next to requests.
type record struct {
	e                     Entry    // Headers and Params nil
	headers               []string // name, value, name, value, ...
	params                []string // name, value, ...: a name once per value, in order
	hasHeaders, hasParams bool
	size                  int // approximate bytes held
}

// entry is the record as an Entry, with its maps.
func (r *record) entry() Entry {
	e := r.e
	if r.hasHeaders {
		e.Headers = make(map[string]string, len(r.headers)/2)
		for i := 0; i < len(r.headers); i += 2 {
			e.Headers[r.headers[i]] = r.headers[i+1]
		}
	}
	if r.hasParams {
		e.Params = make(map[string][]string, len(r.params)/2)
		for i := 0; i < len(r.params); i += 2 {
			e.Params[r.params[i]] = append(e.Params[r.params[i]], r.params[i+1])
		}
	}
	return e
}

// bound returns the record of e with s's headers and parameters redacted,
// every string cut to MaxValueBytes and copied (a substring would keep a
// whole request body alive), at most MaxFields headers and parameter
// values, a time JSON can write, and its approximate size. The copies share
// one allocation, the pairs one more (an entry used to cost two dozen).
func bound(e Entry, s sent) record {
	a := arena{size: entryOverhead}
	a.b.Grow(keptBytes(&e, s))
	e.Time = JSONTime(e.Time)
	for _, t := range e.texts() {
		*t = a.str(*t)
	}
	e.Headers, e.Params = nil, nil
	r := record{hasHeaders: s.header != nil, hasParams: s.params != nil}
	nh, np := min(len(s.header), MaxFields), 0
	for _, vals := range s.params {
		np += len(vals)
	}
	np = min(np, MaxFields)
	pairs := make([]string, 0, 2*(nh+np))
	for k, vals := range s.header {
		if len(pairs) == 2*(MaxFields-1) && len(s.header) > MaxFields {
			pairs = append(pairs, omitted, fmt.Sprintf("[%d more headers]", len(s.header)-len(pairs)/2))
			break
		}
		pairs = append(pairs, a.str(k), a.str(redactHeader(k, vals, s.facts)))
		a.size += fieldOverhead
	}
	r.headers, pairs = pairs, pairs[len(pairs):]
	names := 0
	for k, vals := range s.params {
		room := MaxFields - 1 - len(pairs)/2 // values; one left for the marker
		if room <= 0 {
			pairs = append(pairs, omitted, fmt.Sprintf("[%d more parameters]", len(s.params)-names))
			break
		}
		secret := secretParam(k, s.facts)
		name := a.str(k)
		for _, v := range vals[:min(len(vals), room)] {
			if secret {
				v = Redacted
			}
			pairs = append(pairs, name, a.str(v))
		}
		names++
		a.size += fieldOverhead
	}
	r.params = pairs
	r.e, r.size = e, a.size
	return r
}

// arena copies an entry's strings into one buffer and counts the entry's
// approximate size. Each copy is a substring of the buffer's one string;
// should the buffer grow past its first size, the earlier copies keep the
// old one, still only kept bytes.
type arena struct {
	b    strings.Builder
	size int
}

func (a *arena) str(s string) string {
	s = wire.Truncate(s, MaxValueBytes)
	a.size += len(s) + stringOverhead
	if s == "" {
		return ""
	}
	start := a.b.Len()
	a.b.WriteString(s)
	return a.b.String()[start:]
}

// texts are the entry's own strings, which bound copies.
func (e *Entry) texts() [11]*string {
	return [...]*string{&e.Replica, &e.RequestID, &e.Dialect, &e.Route, &e.Method, &e.ClientID, &e.GrantType,
		&e.Error, &e.ErrorID, &e.Fault, &e.Family}
}

// keptBytes is about what bound copies of e and s: every string at most
// MaxValueBytes, a joined header at least its first value.
func keptBytes(e *Entry, s sent) int {
	n := 0
	for _, t := range e.texts() {
		n += min(len(*t), MaxValueBytes)
	}
	for k, vals := range s.header {
		n += min(len(k), MaxValueBytes)
		if len(vals) > 0 {
			n += min(len(vals[0]), MaxValueBytes)
		}
	}
	for k, vals := range s.params {
		n += min(len(k), MaxValueBytes)
		for _, v := range vals {
			n += min(len(v), MaxValueBytes)
		}
	}
	return n
}

// omitted is the key under which an entry says how many fields it left out.
const omitted = "…"

// JSONTime is t, or the nearest time RFC 3339 (and so JSON) can write when
// t lies outside the years 0000–9999: a listing never fails because of one
// stored time (the clock cannot produce such times; an older build's could).
func JSONTime(t time.Time) time.Time {
	switch {
	case t.Before(jsonTimeMin):
		return jsonTimeMin
	case t.After(jsonTimeMax):
		return jsonTimeMax
	}
	return t
}

// The times RFC 3339 can write (made once: every journal entry is checked).
var (
	jsonTimeMin = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	jsonTimeMax = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)
