package control

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
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
	p := RedactParams(url.Values{"client_id": {"c"}, "client_secret": {"s"}, "clientSecret": {"s"}, "code": {"x"},
		"refresh_token": {"r"}, "password": {"p"}, "user_id": {"u"}})
	for k, v := range p {
		secret := k != "client_id" && k != "user_id"
		if secret != (v[0] == Redacted) {
			t.Errorf("%s = %v", k, v)
		}
	}
	h := RedactHeaders(http.Header{"Authorization": {"Basic ZGVtbzpzZWNyZXQ="}, "Auth-Token": {"t"},
		"Cookie": {"tg_csrf=x"}, "Client-Id": {"demo-client"}})
	if h["Authorization"] != "Basic [redacted]" || h["Auth-Token"] != Redacted || h["Cookie"] != Redacted || h["Client-Id"] != "demo-client" {
		t.Fatalf("headers %v", h)
	}
}
