package control

import (
	"sync"
	"time"
)

// Entry is one journaled request. Secrets in headers and parameters are
// redacted before the entry is stored.
type Entry struct {
	Time      time.Time           `json:"time"`
	Replica   string              `json:"replica,omitempty"`
	RequestID string              `json:"request_id"`
	Dialect   string              `json:"dialect"`
	Route     string              `json:"route"`
	Method    string              `json:"method"`
	ClientID  string              `json:"client_id"`
	GrantType string              `json:"grant_type"`
	Status    int                 `json:"status"`
	LatencyMS float64             `json:"latency_ms"`
	Error     string              `json:"error"`
	ErrorID   string              `json:"error_id"`
	Fault     string              `json:"fault,omitempty"` // id of the fault rule that answered
	Headers   map[string]string   `json:"headers"`
	Params    map[string][]string `json:"params"`
}

// Filter selects journal entries; zero fields match anything.
type Filter struct {
	Dialect  string
	ClientID string
	Status   int
	Since    time.Time
	Limit    int
}

func (f Filter) match(e *Entry) bool {
	return (f.Dialect == "" || e.Dialect == f.Dialect) &&
		(f.ClientID == "" || e.ClientID == f.ClientID) &&
		(f.Status == 0 || e.Status == f.Status) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}

// Journal keeps the last N requests in a ring.
type Journal struct {
	mu      sync.Mutex
	entries []Entry
	sizes   []int64 // each entry's estimated size
	bytes   int64   // their sum
	next    int
	full    bool
}

// NewJournal keeps the last size entries; size 0 disables the journal.
func NewJournal(size int) *Journal {
	return &Journal{entries: make([]Entry, size), sizes: make([]int64, size)}
}

// Enabled reports whether entries are kept at all.
func (j *Journal) Enabled() bool { return len(j.entries) > 0 }

// Add stores e, dropping the oldest entry when full.
func (j *Journal) Add(e Entry) {
	if !j.Enabled() {
		return
	}
	size := e.size()
	j.mu.Lock()
	j.entries[j.next] = e
	j.bytes += size - j.sizes[j.next]
	j.sizes[j.next] = size
	j.next++
	if j.next == len(j.entries) {
		j.next, j.full = 0, true
	}
	j.mu.Unlock()
}

// List returns matching entries, newest first.
func (j *Journal) List(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.next
	if j.full {
		n = len(j.entries)
	}
	out := []Entry{}
	for i := 0; i < n; i++ {
		idx := (j.next - 1 - i + len(j.entries)) % len(j.entries)
		if e := &j.entries[idx]; f.match(e) {
			out = append(out, *e)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out
}

// Stats reports how many entries the journal holds and their estimated
// size in bytes.
func (j *Journal) Stats() (entries int, bytes int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.full {
		return len(j.entries), j.bytes
	}
	return j.next, j.bytes
}

// Clear forgets every entry.
func (j *Journal) Clear() {
	j.mu.Lock()
	clear(j.entries)
	clear(j.sizes)
	j.next, j.full, j.bytes = 0, false, 0
	j.mu.Unlock()
}
