package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/dialects/wire"
)

func TestJournalRingNewestFirst(t *testing.T) {
	j := NewJournal(3)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		j.Add(Entry{Time: t0.Add(time.Duration(i) * time.Minute), Status: 200 + i, Dialect: []string{"a", "b"}[i%2]})
	}
	all := j.List(Filter{})
	if len(all) != 3 || all[0].Status != 204 || all[2].Status != 202 {
		t.Fatalf("ring: %+v", all)
	}
	if got := j.List(Filter{Dialect: "a"}); len(got) != 2 || got[0].Status != 204 {
		t.Fatalf("dialect filter: %+v", got)
	}
	if got := j.List(Filter{Since: t0.Add(3 * time.Minute)}); len(got) != 2 {
		t.Fatalf("since filter: %+v", got)
	}
	if got := j.List(Filter{Status: 203}); len(got) != 1 {
		t.Fatalf("status filter: %+v", got)
	}
	if got := j.List(Filter{Limit: 1}); len(got) != 1 || got[0].Status != 204 {
		t.Fatalf("limit: %+v", got)
	}
	j.Clear()
	if got := j.List(Filter{}); len(got) != 0 {
		t.Fatalf("cleared: %+v", got)
	}
	off := NewJournal(0)
	off.Add(Entry{})
	if off.Enabled() || len(off.List(Filter{})) != 0 {
		t.Fatal("a zero-size journal keeps entries")
	}
}

func TestFaultMatchingAndCounts(t *testing.T) {
	var f Faults
	r, err := f.Add(Rule{Dialect: "hurdlr", ClientID: "demo-client", Status: 503, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Add(Rule{Route: "/v1/token/", Latency: "50ms"}); err != nil {
		t.Fatal(err)
	}
	if a := f.Match(context.Background(), "oauth2", "/oauth2/token", "/oauth2/token", "demo-client", ""); a != nil {
		t.Fatalf("other dialect matched: %+v", a)
	}
	if a := f.Match(context.Background(), "hurdlr", "/x", "/x", "someone-else", ""); a != nil {
		t.Fatalf("other client matched: %+v", a)
	}
	for i := range 2 {
		a := f.Match(context.Background(), "hurdlr", "/x", "/x", "demo-client", "")
		if a == nil || a.Status != 503 || a.RuleID != r.ID {
			t.Fatalf("hit %d: %+v", i, a)
		}
	}
	if a := f.Match(context.Background(), "hurdlr", "/x", "/x", "demo-client", ""); a != nil {
		t.Fatalf("spent rule fired: %+v", a)
	}
	if a := f.Match(context.Background(), "accounda", "/v1/token/", "/v1/token/", "", ""); a == nil || a.Latency != 50*time.Millisecond {
		t.Fatalf("route rule: %+v", a)
	}
	rules, _ := f.List(context.Background())
	if rules[0].Hits != 2 || rules[1].Hits != 1 {
		t.Fatalf("hits: %+v", rules)
	}
	if !f.Delete(r.ID) || f.Delete(r.ID) {
		t.Fatal("delete")
	}
	for _, bad := range []Rule{{}, {Latency: "soon"}, {Drop: true, Status: 500}} {
		if _, err := f.Add(bad); err == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
}

func TestFaultProbability(t *testing.T) {
	var f Faults
	if _, err := f.Add(Rule{Status: 500, Prob: 0.25}); err != nil {
		t.Fatal(err)
	}
	fired := 0
	for range 4000 {
		if f.Match(context.Background(), "d", "/", "/", "", "") != nil {
			fired++
		}
	}
	if fired < 800 || fired > 1200 {
		t.Fatalf("probability 0.25 fired %d of 4000", fired)
	}
}

func TestRedaction(t *testing.T) {
	// Standard names are always secret; others only where the dialect
	// declares them.
	facts := &wire.Facts{SecretParams: []string{"clientsecret"}, SecretHeaders: []string{"auth-token"}}
	params := url.Values{"client_id": {"c"}, "client_secret": {"s"}, "clientSecret": {"s"}, "code": {"x"},
		"refresh_token": {"r"}, "password": {"p"}, "user_id": {"u"}, "CLIENT_ASSERTION": {"a"}}
	for k, v := range redacted(nil, params, facts).Params {
		secret := k != "client_id" && k != "user_id"
		if secret != (v[0] == Redacted) {
			t.Errorf("%s = %v", k, v)
		}
	}
	if p := redacted(nil, params, &wire.StandardFacts).Params; p["clientSecret"][0] != "s" || p["client_secret"][0] != Redacted {
		t.Errorf("undeclared clientSecret: %v", p)
	}
	hdr := http.Header{"Authorization": {"Basic ZGVtbzpzZWNyZXQ="}, "Auth-Token": {"t"},
		"Cookie": {"tg_csrf=x"}, "Client-Id": {"demo-client"}, "Accept": {"application/json"}}
	h := redacted(hdr, nil, facts).Headers
	if h["Authorization"] != "Basic [redacted]" || h["Auth-Token"] != Redacted || h["Cookie"] != Redacted || h["Client-Id"] != "demo-client" {
		t.Fatalf("headers %v", h)
	}
	// Headers no dialect declared but whose names say credential are
	// redacted all the same.
	for _, name := range []string{"Auth-Token", "X-Api-Key", "Api-Key", "X-Auth-Token", "X-Client-Secret", "X-Password",
		"X-Session-Cookie", "X-Amz-Security-Token", "X-Custom-Authorization"} {
		hdr := http.Header{name: {"s3cret-value"}, "Accept": {"application/json"}}
		if h := redacted(hdr, nil, &wire.StandardFacts).Headers; h[name] != Redacted || h["Accept"] != "application/json" {
			t.Errorf("undeclared %s: %v", name, h)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{`"1500ms"`: 1500 * time.Millisecond, `2`: 2 * time.Second, `0.5`: 500 * time.Millisecond} {
		var s Seconds
		if err := json.Unmarshal([]byte(in), &s); err != nil || time.Duration(s) != want {
			t.Errorf("%s: %v %v", in, time.Duration(s), err)
		}
	}
	var s Seconds
	if err := json.Unmarshal([]byte(`"soon"`), &s); err == nil {
		t.Error(`"soon" accepted`)
	}
	if b, _ := json.Marshal(Rule{Status: 503, RetryAfter: Seconds(2 * time.Second)}); !strings.Contains(string(b), `"retry_after":"2s"`) {
		t.Errorf("encoded %s", b)
	}
	var f Faults
	for _, tc := range []struct {
		rule Rule
		want time.Duration
	}{
		{Rule{Status: 503}, DefaultRetryAfter},
		{Rule{Status: 429}, DefaultRetryAfter},
		{Rule{Status: 500}, 0},
		{Rule{Status: 503, RetryAfter: Seconds(5 * time.Second)}, 5 * time.Second},
		{Rule{Status: 400, RetryAfter: Seconds(time.Second)}, time.Second},
	} {
		f.Clear()
		if _, err := f.Add(tc.rule); err != nil {
			t.Fatal(err)
		}
		if a := f.Match(context.Background(), "d", "/", "/", "", ""); a == nil || a.RetryAfter != tc.want {
			t.Errorf("%+v: %+v", tc.rule, a)
		}
	}
	for _, bad := range []Rule{{Status: 503, RetryAfter: -1}, {Latency: "1s", RetryAfter: Seconds(time.Second)}} {
		var re *RuleError
		if _, err := f.Add(bad); !errors.As(err, &re) || re.Field != "retry_after" {
			t.Errorf("rule %+v: %v", bad, err)
		}
	}
}

// A rule may slow or fail requests but never hold one until the client
// gives up: latency, count and retry_after are bounded.
func TestFaultBounds(t *testing.T) {
	var f Faults
	for _, tc := range []struct {
		rule  Rule
		field string
	}{
		{Rule{Latency: "5m1s"}, "latency"},
		{Rule{Latency: "2562047h"}, "latency"},
		{Rule{Status: 503, Count: MaxCount + 1}, "count"},
		{Rule{Status: 503, RetryAfter: Seconds(MaxRetryAfter + time.Second)}, "retry_after"},
	} {
		var re *RuleError
		if _, err := f.Add(tc.rule); !errors.As(err, &re) || re.Field != tc.field {
			t.Errorf("rule %+v: %v, want a refusal of %s", tc.rule, err, tc.field)
		}
	}
	for _, ok := range []Rule{{Latency: "5m"}, {Status: 503, Count: MaxCount, RetryAfter: Seconds(MaxRetryAfter)}} {
		if _, err := f.Add(ok); err != nil {
			t.Errorf("rule %+v: %v", ok, err)
		}
	}
	var s Seconds
	if err := json.Unmarshal([]byte(`1e300`), &s); err == nil {
		t.Errorf("retry_after 1e300 accepted as %v", time.Duration(s))
	}
}

// redacted is what a journal entry keeps of headers and params under f.
func redacted(h http.Header, p url.Values, f *wire.Facts) Entry {
	r := bound(Entry{}, sent{header: h, params: p, facts: f})
	return r.entry()
}
