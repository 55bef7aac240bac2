package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

// adminCLI runs the admin subcommands against a running gateway's admin
// API and prints tables, or JSON with --json.
type adminCLI struct {
	c    *admin.Client
	out  io.Writer
	json bool
}

// usageError is a mistake on the command line: exit status 2 and a hint to
// --help.
type usageError string

func (u usageError) Error() string { return string(u) }

// clock runs one clock operation ("" shows the clock) and prints the state.
func (a *adminCLI) clock(op, arg string) error {
	var s admin.ClockState
	var err error
	switch op {
	case "":
		s, err = a.c.Clock()
	case "advance":
		d, perr := time.ParseDuration(arg)
		if perr != nil {
			return usageError("clock advance: " + perr.Error())
		}
		s, err = a.c.AdvanceClock(d)
	case "set":
		t, perr := time.Parse(time.RFC3339Nano, arg)
		if perr != nil {
			return usageError("clock set: " + perr.Error())
		}
		s, err = a.c.SetClock(t)
	case "freeze":
		s, err = a.c.FreezeClock(true)
	case "unfreeze":
		s, err = a.c.FreezeClock(false)
	case "reset":
		s, err = a.c.ResetClock()
	}
	if err != nil {
		return err
	}
	return a.print(s, []string{"NOW", "OFFSET", "FROZEN"}, [][]string{{s.Now, s.Offset, strconv.FormatBool(s.Frozen)}})
}

func (a *adminCLI) addFault(r control.Rule) error {
	out, err := a.c.AddFault(r)
	if err != nil {
		return err
	}
	return a.print(out, faultHeader, [][]string{faultRow(out)})
}

func (a *adminCLI) faults() error {
	rules, err := a.c.Faults()
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(rules))
	for _, r := range rules {
		rows = append(rows, faultRow(r))
	}
	return a.print(rules, faultHeader, rows)
}

var faultHeader = []string{"ID", "DIALECT", "ROUTE", "CLIENT", "GRANT", "ACTION", "COUNT", "PROB", "HITS"}

func faultRow(r control.Rule) []string {
	action := []string{}
	if r.Status != 0 {
		action = append(action, "status "+strconv.Itoa(r.Status))
	}
	if r.Latency != "" {
		action = append(action, "latency "+r.Latency)
	}
	if r.Drop {
		action = append(action, "drop")
	}
	return []string{r.ID, dash(r.Dialect), dash(r.Route), dash(r.ClientID), dash(r.GrantType), strings.Join(action, ", "),
		strconv.Itoa(r.Count), strconv.FormatFloat(r.Prob, 'g', -1, 64), strconv.FormatInt(r.Hits, 10)}
}

func (a *adminCLI) requests(f control.Filter, since string) error {
	if since != "" {
		if t, err := time.Parse(time.RFC3339Nano, since); err == nil {
			f.Since = t
		} else if d, err := time.ParseDuration(since); err == nil {
			f.Since = time.Now().Add(-d)
		} else {
			return usageError("--since: an RFC 3339 time or a duration")
		}
	}
	entries, err := a.c.Requests(f)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, []string{e.Time.Format(time.RFC3339), e.Dialect, e.Method, e.Route, dash(e.ClientID),
			dash(e.GrantType), strconv.Itoa(e.Status), strconv.FormatFloat(e.LatencyMS, 'f', 2, 64), dash(e.Error), dash(e.ErrorID)})
	}
	return a.print(entries, []string{"TIME", "DIALECT", "METHOD", "ROUTE", "CLIENT", "GRANT", "STATUS", "MS", "ERROR", "ERROR_ID"}, rows)
}

func (a *adminCLI) showClient(id string) error {
	c, err := a.c.GetClient(id)
	if err != nil {
		return err
	}
	return a.print(c, clientHeader, [][]string{clientRow(c)})
}

func (a *adminCLI) revokeClientTokens(id string) error {
	n, err := a.c.RevokeClientTokens(id)
	if err != nil {
		return err
	}
	return a.print(map[string]int{"revoked": n}, []string{"REVOKED"}, [][]string{{strconv.Itoa(n)}})
}

// addClient creates a client; the list flags arrive comma-separated.
func (a *adminCLI) addClient(c config.Client, grants, uris, dialects, scopes string) error {
	c.Grants, c.RedirectURIs, c.Dialects, c.Scopes = split(grants), split(uris), split(dialects), split(scopes)
	out, err := a.c.CreateClient(c)
	if err != nil {
		return err
	}
	return a.print(out, clientHeader, [][]string{clientRow(out)})
}

func (a *adminCLI) clients() error {
	list, err := a.c.Clients()
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, c := range list {
		rows = append(rows, clientRow(c))
	}
	return a.print(list, clientHeader, rows)
}

var clientHeader = []string{"CLIENT_ID", "GRANTS", "DIALECTS", "REDIRECT_URIS", "DISABLED"}

func clientRow(c config.Client) []string {
	return []string{c.ClientID, strings.Join(c.Grants, ","), dash(strings.Join(c.Dialects, ",")),
		dash(strings.Join(c.RedirectURIs, ",")), strconv.FormatBool(c.Disabled)}
}

func (a *adminCLI) addUser(u config.User) error {
	out, err := a.c.CreateUser(u)
	if err != nil {
		return err
	}
	return a.print(out, userHeader, [][]string{userRow(out)})
}

func (a *adminCLI) users() error {
	list, err := a.c.Users()
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, u := range list {
		rows = append(rows, userRow(u))
	}
	return a.print(list, userHeader, rows)
}

var userHeader = []string{"USER_ID", "USERNAME", "NAME", "EMAIL", "LINKED"}

func userRow(u config.User) []string {
	linked := make([]string, 0, len(u.LinkedAccounts))
	for p := range u.LinkedAccounts {
		linked = append(linked, p)
	}
	return []string{u.UserID, u.Username, dash(strings.TrimSpace(u.FirstName + " " + u.LastName)), dash(u.Email), dash(strings.Join(linked, ","))}
}

func (a *adminCLI) deleteAuthorization(authID string) error {
	id, err := strconv.ParseInt(authID, 10, 64)
	if err != nil {
		return usageError("AUTH_ID must be an integer")
	}
	return a.c.DeleteAuthorization(id)
}

func (a *adminCLI) addAuthorization(x config.Authorization) error {
	out, err := a.c.CreateAuthorization(x)
	if err != nil {
		return err
	}
	return a.print(out, authHeader, [][]string{authRow(out)})
}

func (a *adminCLI) authorizations() error {
	list, err := a.c.Authorizations()
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, x := range list {
		rows = append(rows, authRow(x))
	}
	return a.print(list, authHeader, rows)
}

var authHeader = []string{"AUTH_ID", "USER_ID", "CLIENT_ID"}

func authRow(x config.Authorization) []string {
	return []string{strconv.FormatInt(x.AuthID, 10), x.UserID, x.ClientID}
}

func (a *adminCLI) tokens(clientID, dialect, kind string) error {
	q := url.Values{}
	for k, v := range map[string]string{"client_id": clientID, "dialect": dialect, "kind": kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	list, err := a.c.Tokens(q)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, t := range list {
		rows = append(rows, []string{t.ID[:12], t.Kind, t.ClientID, dash(t.UserID), t.Dialect,
			t.Issued.Format(time.RFC3339), t.Expires.Format(time.RFC3339), strconv.FormatBool(t.Revoked), strconv.FormatBool(t.Active)})
	}
	return a.print(list, []string{"ID", "KIND", "CLIENT", "USER", "DIALECT", "ISSUED", "EXPIRES", "REVOKED", "ACTIVE"}, rows)
}

// reset wipes the gateway's runtime state and says what went, from the
// API's answer, and whether the clock is still moved (reset leaves it).
func (a *adminCLI) reset(toConfig bool) error {
	body := map[string]string{}
	if toConfig {
		body["to"] = "config"
	}
	var answer map[string]any
	if err := a.c.Do(context.Background(), http.MethodPost, "/reset", body, &answer); err != nil {
		return err
	}
	if a.json {
		return a.print(answer, nil, nil)
	}
	fmt.Fprintln(a.out, resetSummary(answer, toConfig))
	if s, err := a.c.Clock(); err == nil && (s.Frozen || s.Offset != "" && s.Offset != "0s") {
		fmt.Fprintf(a.out, "clock: still at %s (offset %s, frozen %t); `tokengate admin clock reset` returns it to real time\n",
			s.Now, s.Offset, s.Frozen)
	}
	return nil
}

// resetSummary names what a reset wiped. The answer says whether the
// config was restored ("to": "config"); what is wiped in any case is the
// documented contract of POST /_admin/reset.
func resetSummary(answer map[string]any, asked bool) string {
	restored := asked
	if to, ok := answer["to"].(string); ok {
		restored = to == "config"
	}
	line := "reset: tokens, authorization codes, request journal and fault rules"
	if restored {
		line += "; clients, users and authorizations restored to the config"
	}
	return line
}

// print writes v as JSON with --json, else a table.
func (a *adminCLI) print(v any, header []string, rows [][]string) error {
	if a.json {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
