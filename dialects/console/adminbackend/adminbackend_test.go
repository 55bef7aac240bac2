package adminbackend_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/console"
	"github.com/tokengate/tokengate/dialects/console/internal/clienttest"
)

var ctx = context.Background()

// A watched request reaches the watcher and the journal as one entry with
// one id; an unwatched one only the journal.
func TestWatchSeesWhatTheJournalKeeps(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	b := g.App.ConsoleBackend
	clienttest.Issue(t, g.URL)
	w, err := b.Watch()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	clienttest.Issue(t, g.URL)
	var live console.Request
	select {
	case live = <-w.Requests():
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher saw nothing")
	}
	list, _ := b.Requests(ctx, 0)
	if len(list) != 2 || list[0].ID != live.ID || list[1].ID == live.ID {
		t.Fatalf("journal %+v, live %+v", list, live)
	}
	if live.Dialect != "hurdlr" || live.ClientID != "demo-client" || live.Status != 200 || live.Params["client_secret"][0] != "[redacted]" ||
		live.RequestID == "" || live.Family.ID == "" || live.Reuse {
		t.Fatalf("live entry %+v", live)
	}
	got, err := b.Request(ctx, live.ID)
	if err != nil || got.Family.ID != live.Family.ID || got.Family.ClientID != "demo-client" || got.RequestID != live.RequestID {
		t.Fatalf("detail %+v %v", got, err)
	}
	fam, _ := b.Tokens(ctx, console.TokenQuery{ClientID: "demo-client", FamilyID: got.Family.ID})
	if len(fam) != 2 || !fam[0].Issued.Equal(fam[1].Issued) {
		t.Fatalf("the linked family is not the request's tokens: %+v", fam)
	}
	other, _ := b.Request(ctx, list[1].ID)
	if other.Family.ID == got.Family.ID {
		t.Fatal("two requests linked to one family")
	}
	if _, err := b.Request(ctx, "gone"); !errors.Is(err, console.ErrNotFound) {
		t.Fatalf("missing request: %v", err)
	}
}

func TestWatchersAreCapped(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	var open []console.Watch
	for {
		w, err := g.App.ConsoleBackend.Watch()
		if errors.Is(err, console.ErrBusy) {
			break
		}
		if err != nil || len(open) > 100 {
			t.Fatalf("watch %d: %v", len(open), err)
		}
		open = append(open, w)
	}
	if len(open) != 8 {
		t.Fatalf("%d watchers before the cap, want 8", len(open))
	}
	open[0].Close()
	if w, err := g.App.ConsoleBackend.Watch(); err != nil {
		t.Fatalf("a closed watch's slot: %v", err)
	} else {
		w.Close()
	}
	for _, w := range open[1:] {
		w.Close()
	}
}

// Reuse detection is told apart from a plain revocation by what the engine
// recorded: on the journal entry of the request, and on the tokens, where
// it outlives the journal.
func TestReuseIsMarkedAndRevocationIsNot(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	b := g.App.ConsoleBackend
	rt := clienttest.Issue(t, g.URL)["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	clienttest.Token(t, g.URL, refresh)
	if st, _ := clienttest.Token(t, g.URL, refresh); st != http.StatusBadRequest {
		t.Fatalf("reuse answered %d", st)
	}
	list, _ := b.Requests(ctx, 0)
	if len(list) != 3 || !list[0].Reuse || list[1].Reuse || list[0].Family.ID == "" ||
		list[0].Family.ID != list[1].Family.ID || list[1].Family.ID != list[2].Family.ID {
		t.Fatalf("the journal's reuse and families: %+v", list)
	}
	family := list[0].Family.ID
	if err := g.Admin.ClearRequests(); err != nil {
		t.Fatal(err)
	}
	// The admin API revokes by value, one token at a time, whatever the
	// instance that issued it.
	issued := clienttest.Issue(t, g.URL)
	for _, k := range []string{"access_token", "refresh_token"} {
		if err := g.Admin.RevokeToken(issued[k].(string)); err != nil {
			t.Fatalf("revoke %s: %v", k, err)
		}
	}
	tokens, err := b.Tokens(ctx, console.TokenQuery{ClientID: "demo-client"})
	if err != nil {
		t.Fatal(err)
	}
	reuse, plain := 0, 0
	for _, tk := range tokens {
		switch {
		case tk.RevokedByReuse:
			reuse++
			if tk.FamilyID != family || tk.Replayed != core.TokenKey(rt) || tk.RevokeReason != "reuse" {
				t.Errorf("revoked by reuse: %+v", tk)
			}
		case !tk.Revoked.IsZero():
			plain++
			if tk.RevokeReason != "admin" || tk.Replayed != "" {
				t.Errorf("revoked by the admin: %+v", tk)
			}
		}
	}
	if reuse != 3 || plain != 2 {
		t.Fatalf("revoked by reuse %d (want 3), plainly %d (want 2): %+v", reuse, plain, tokens)
	}
	live, _ := b.Tokens(ctx, console.TokenQuery{LiveOnly: true})
	if len(live) != 0 {
		t.Fatalf("live tokens after revoking everything: %+v", live)
	}
}

func TestStateChangesGoThroughTheAdminAPI(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	b := g.App.ConsoleBackend
	c := config.Client{ClientID: "ci", ClientSecret: "ci-secret", Grants: []string{"client_credentials"}}
	if err := b.SaveClient(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	var ie *console.InputError
	if err := b.SaveClient(ctx, c, true); !errors.As(err, &ie) || !ie.Conflict {
		t.Fatalf("duplicate client: %v", err)
	}
	if err := b.SaveClient(ctx, config.Client{ClientID: "bad", ClientSecret: "x", Grants: []string{"telepathy"}}, true); !errors.As(err, &ie) || ie.Conflict || len(ie.Problems) == 0 {
		t.Fatalf("invalid client: %v", err)
	}
	c.ClientSecret, c.Disabled = "", true // replace, keeping the secret
	if err := b.SaveClient(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	got, err := g.Admin.GetClient("ci")
	if err != nil || !got.Disabled {
		t.Fatalf("replaced client %+v %v", got, err)
	}
	if err := b.DeleteClient(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteClient(ctx, "ci"); !errors.Is(err, console.ErrNotFound) {
		t.Fatalf("deleting a missing client: %v", err)
	}
	if _, err := b.AddFault(ctx, console.Fault{Dialect: "nope", Status: 503}); !errors.As(err, &ie) || ie.Field != "dialect" {
		t.Fatalf("fault on an unknown dialect: %v", err)
	}
	f, err := b.AddFault(ctx, console.Fault{Dialect: "hurdlr", Status: 503, Latency: 5 * time.Millisecond, Count: 1})
	if err != nil || f.ID == "" || f.Latency != 5*time.Millisecond {
		t.Fatalf("fault %+v %v", f, err)
	}
	if st, _ := clienttest.Token(t, g.URL, url.Values{"grant_type": {"client_credentials"}}); st != http.StatusServiceUnavailable {
		t.Fatalf("the fault did not fire: %d", st)
	}
	o, err := b.Overview(ctx)
	if err != nil || o.ActiveFaults != 0 || o.Clients != 2 || o.Users != 1 || o.Storage != "sqlite" || o.Replica == "" {
		t.Fatalf("overview %+v %v", o, err)
	}
	s, err := b.MoveClock(ctx, console.ClockMove{Advance: 2 * time.Hour})
	if err != nil || s.Offset < 2*time.Hour || s.Frozen {
		t.Fatalf("clock %+v %v", s, err)
	}
	on := true
	if s, err := b.MoveClock(ctx, console.ClockMove{Freeze: &on}); err != nil || !s.Frozen {
		t.Fatalf("freeze %+v %v", s, err)
	}
	if s, err := b.MoveClock(ctx, console.ClockMove{Reset: true}); err != nil || s.Frozen || s.Offset != 0 {
		t.Fatalf("reset %+v %v", s, err)
	}
	ds := b.Dialects()
	i := slices.IndexFunc(ds, func(d console.Dialect) bool { return d.Name == "oauth2" })
	if len(ds) != 5 || i < 0 || len(ds[i].Routes) == 0 || strings.HasSuffix(ds[i].Listen, ":0") {
		t.Fatalf("dialects %+v", ds)
	}
}

// Dialects added at run time go through the admin API: listed after the
// config's, served at once, offered to fault rules, removed again; a bad
// spec's problems name their paths, colliding routes are a conflict.
func TestDialectsAddedAtRunTime(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	b := g.App.ConsoleBackend
	spec, err := os.ReadFile(filepath.Join("..", "..", "declared", "testdata", "errorid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ie *console.InputError
	_, err = b.AddDialect(ctx, console.NewDialect{Name: "acme", Prefix: "/acme", Spec: "name: x\nroutes: nope\n"})
	if !errors.As(err, &ie) || ie.Conflict || len(ie.Problems) == 0 || !strings.HasPrefix(ie.Problems[0], "spec: ") {
		t.Fatalf("an invalid spec: %v", err)
	}
	if _, err := b.AddDialect(ctx, console.NewDialect{Name: "acme", Spec: string(spec)}); !errors.As(err, &ie) || !ie.Conflict {
		t.Fatalf("routes of the config's errorid: %v", err)
	}
	d, err := b.AddDialect(ctx, console.NewDialect{Name: "acme", Prefix: "/acme", Spec: string(spec)})
	if err != nil || !d.Runtime || d.Type != "declared" || len(d.Routes) == 0 || d.Added.IsZero() || strings.HasSuffix(d.Listen, ":0") {
		t.Fatalf("added %+v %v", d, err)
	}
	ds := b.Dialects()
	if len(ds) != 6 || ds[5].Name != "acme" || !ds[5].Runtime || ds[0].Runtime {
		t.Fatalf("dialects %+v", ds)
	}
	if got, err := b.Dialect(ctx, "acme"); err != nil || got.Spec != string(spec) {
		t.Fatalf("one dialect: %+v %v", got, err)
	}
	if _, err := b.AddFault(ctx, console.Fault{Dialect: "acme", Route: "/acme/v1/oauth/token", Status: 503, Count: 1}); err != nil {
		t.Fatalf("a fault on the run-time dialect: %v", err)
	}
	token := func() int {
		resp, err := http.Post(g.URL+"/acme/v1/oauth/token", "application/json",
			strings.NewReader(`{"client_id":"demo-client","client_secret":"demo-secret"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := token(); st != http.StatusServiceUnavailable {
		t.Fatalf("the fault did not fire: %d", st)
	}
	if st := token(); st != http.StatusOK {
		t.Fatalf("the run-time dialect's token: %d", st)
	}
	if err := b.RemoveDialect(ctx, "errorid"); !errors.As(err, &ie) {
		t.Fatalf("removing a config instance: %v", err)
	}
	if err := b.RemoveDialect(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Dialect(ctx, "acme"); !errors.Is(err, console.ErrNotFound) {
		t.Fatalf("a removed dialect: %v", err)
	}
	if st := token(); st != http.StatusNotFound {
		t.Fatalf("a removed dialect answered %d", st)
	}
}
