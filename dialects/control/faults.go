package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Rule is one fault-injection rule: match fields (empty matches anything)
// and an action. Count > 0 fires for the next Count matching requests;
// Probability (0..1] fires at random; neither fires always.
type Rule struct {
	ID string `json:"id"`

	Dialect   string `json:"dialect,omitempty"`
	Route     string `json:"route,omitempty" validate:"omitempty,startswith=/"`
	ClientID  string `json:"client_id,omitempty"`
	GrantType string `json:"grant_type,omitempty"`

	Status int    `json:"status,omitempty" validate:"omitempty,min=400,max=599"`
	Code   string `json:"code,omitempty"`
	Text   string `json:"text,omitempty"`
	// RetryAfter is sent with a status answer as Retry-After (whole
	// seconds, rounded up); 429 and 503 answers without one get
	// DefaultRetryAfter, so clients back off.
	RetryAfter Seconds `json:"retry_after,omitempty"`
	Latency    string  `json:"latency,omitempty"`
	Drop       bool    `json:"drop,omitempty"`
	Count      int     `json:"count,omitempty" validate:"min=0"`
	Prob       float64 `json:"probability,omitempty" validate:"min=0,max=1"`

	Hits int64 `json:"hits"`

	latency time.Duration
}

// DefaultRetryAfter is the Retry-After of a 429 or 503 rule that sets none.
const DefaultRetryAfter = time.Second

// Seconds is a duration written in JSON as a Go duration string ("1500ms",
// "2s") or a number of seconds.
type Seconds time.Duration

// MarshalJSON writes s as a duration string.
func (s Seconds) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(s).String()) }

// UnmarshalJSON reads a duration string or a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var n float64
	if err := json.Unmarshal(b, &n); err == nil {
		if math.Abs(n) > float64(math.MaxInt64/int64(time.Second)) {
			return errors.New("is out of range")
		}
		*s = Seconds(n * float64(time.Second))
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return errors.New("must be a duration such as 2s or a number of seconds")
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		return errors.New("must be a duration such as 2s or a number of seconds")
	}
	*s = Seconds(d)
	return nil
}

// Action is what a fired rule does to one request.
type Action struct {
	RuleID     string
	Status     int
	Code       string
	Text       string
	RetryAfter time.Duration
	Latency    time.Duration
	Drop       bool
}

// Kind names what the action does: drop, status (perhaps after a
// latency) or latency alone.
func (a *Action) Kind() string {
	switch {
	case a.Drop:
		return "drop"
	case a.Status != 0:
		return "status"
	}
	return "latency"
}

// Faults is the set of active rules. With a shared store (replicas on one
// database) hit counts live in the store, so count-limited rules fire
// exactly count times across all replicas.
type Faults struct {
	mu     sync.Mutex
	rules  []*Rule
	shared core.ControlStore
}

const hitPrefix = "fault:"

// RuleError names the field of a rule that cannot be used.
type RuleError struct{ Field, Message string }

func (e *RuleError) Error() string { return e.Field + ": " + e.Message }

// Bounds of a rule: a fault may slow or fail requests, never hold them
// until the client gives up.
const (
	MaxLatency    = 5 * time.Minute
	MaxCount      = 1_000_000
	MaxRetryAfter = time.Hour
)

// Prepare checks a rule's action fields that validation tags cannot.
func (r *Rule) Prepare() error {
	// The extension grants' URNs may be given by their short names.
	r.GrantType = string(core.GrantNamed(r.GrantType))
	if r.Latency != "" {
		d, err := time.ParseDuration(r.Latency)
		if err != nil || d < 0 {
			return &RuleError{"latency", "must be a Go duration such as 250ms"}
		}
		if d > MaxLatency {
			return &RuleError{"latency", "must be at most " + MaxLatency.String()}
		}
		r.latency = d
	}
	if r.Count > MaxCount {
		return &RuleError{"count", fmt.Sprintf("must be at most %d", MaxCount)}
	}
	if r.Status == 0 && r.latency == 0 && !r.Drop {
		return &RuleError{"status", "a rule needs status, latency or drop"}
	}
	if r.Drop && r.Status != 0 {
		return &RuleError{"drop", "cannot be combined with status"}
	}
	switch {
	case r.RetryAfter < 0:
		return &RuleError{"retry_after", "must not be negative"}
	case r.RetryAfter > 0 && r.Status == 0:
		return &RuleError{"retry_after", "needs a status"}
	case time.Duration(r.RetryAfter) > MaxRetryAfter:
		return &RuleError{"retry_after", "must be at most " + MaxRetryAfter.String()}
	}
	return nil
}

// Add stores a prepared rule under a fresh id and returns its copy.
func (f *Faults) Add(r Rule) (Rule, error) {
	if err := r.Prepare(); err != nil {
		return Rule{}, err
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Rule{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r.ID, r.Hits = hex.EncodeToString(id[:]), 0 // random, so replicas never reuse an id
	f.rules = append(f.rules, &r)
	return r, nil
}

// replace installs rules read from the shared store.
func (f *Faults) replace(rules []Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = f.rules[:0]
	for _, r := range rules {
		r := r
		if err := r.Prepare(); err == nil {
			f.rules = append(f.rules, &r)
		}
	}
}

// List returns copies of the rules with their hit counts.
func (f *Faults) List(ctx context.Context) ([]Rule, error) {
	f.mu.Lock()
	out := make([]Rule, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, *r)
	}
	f.mu.Unlock()
	if f.shared != nil {
		hits, err := f.shared.Counters(ctx, hitPrefix)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i].Hits = hits[hitPrefix+out[i].ID]
		}
	}
	return out, nil
}

// Delete removes rule id and reports whether it existed.
func (f *Faults) Delete(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.ID == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// Match finds the first rule that fires for a request and counts the hit.
func (f *Faults) Match(ctx context.Context, dialect, route, path, clientID, grant string) *Action {
	f.mu.Lock()
	if len(f.rules) == 0 {
		f.mu.Unlock()
		return nil
	}
	var candidates []Rule
	for _, r := range f.rules {
		if (r.Dialect != "" && r.Dialect != dialect) || (r.Route != "" && r.Route != route && r.Route != path) ||
			(r.ClientID != "" && r.ClientID != clientID) || (r.GrantType != "" && r.GrantType != grant) {
			continue
		}
		if r.Prob > 0 && mrand.Float64() >= r.Prob {
			continue
		}
		if f.shared == nil {
			if r.Count > 0 && r.Hits >= int64(r.Count) {
				continue // spent
			}
			r.Hits++
			f.mu.Unlock()
			return r.action()
		}
		candidates = append(candidates, *r)
	}
	f.mu.Unlock()
	for _, r := range candidates { // shared: claim the hit in the store, atomically across replicas
		ok, err := f.shared.Hit(ctx, hitPrefix+r.ID, int64(r.Count))
		if err == nil && ok {
			return r.action()
		}
	}
	return nil
}

func (r *Rule) action() *Action {
	retry := time.Duration(r.RetryAfter)
	if retry == 0 && (r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable) {
		retry = DefaultRetryAfter
	}
	return &Action{RuleID: r.ID, Status: r.Status, Code: r.Code, Text: r.Text, RetryAfter: retry, Latency: r.latency, Drop: r.Drop}
}
