package main

import (
	"encoding/json"
	"fmt"
	"io"
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
	return printOne(a, []string{"NOW", "OFFSET", "FROZEN"}, func(s admin.ClockState) []string {
		return []string{s.Now, s.Offset, strconv.FormatBool(s.Frozen)}
	}, s, err)
}

func (a *adminCLI) addFault(r control.Rule) error {
	out, err := a.c.AddFault(r)
	return printOne(a, faultHeader, faultRow, out, err)
}

func (a *adminCLI) faults() error {
	rules, err := a.c.Faults()
	return printList(a, faultHeader, faultRow, rules, err)
}

var faultHeader = []string{"ID", "DIALECT", "ROUTE", "CLIENT", "GRANT", "ACTION", "COUNT", "PROB", "HITS"}

func faultRow(r control.Rule) []string {
	action := []string{}
	if r.Status != 0 {
		action = append(action, "status "+strconv.Itoa(r.Status))
	}
	if r.Code != "" {
		action = append(action, "code "+r.Code)
	}
	if r.RetryAfter != 0 {
		action = append(action, "retry-after "+time.Duration(r.RetryAfter).String())
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
	return printList(a, []string{"TIME", "DIALECT", "METHOD", "ROUTE", "CLIENT", "GRANT", "STATUS", "MS", "ERROR", "ERROR_ID"},
		func(e control.Entry) []string {
			return []string{e.Time.Format(time.RFC3339), e.Dialect, e.Method, e.Route, dash(e.ClientID),
				dash(e.GrantType), strconv.Itoa(e.Status), strconv.FormatFloat(e.LatencyMS, 'f', 2, 64), dash(e.Error), dash(e.ErrorID)}
		}, entries, err)
}

func (a *adminCLI) showClient(id string) error {
	c, err := a.c.GetClient(id)
	return printOne(a, clientHeader, clientRow, c, err)
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
	return printOne(a, clientHeader, clientRow, out, err)
}

func (a *adminCLI) clients() error {
	list, err := a.c.Clients()
	return printList(a, clientHeader, clientRow, list, err)
}

var clientHeader = []string{"CLIENT_ID", "GRANTS", "DIALECTS", "REDIRECT_URIS", "DISABLED"}

func clientRow(c config.Client) []string {
	return []string{c.ClientID, strings.Join(c.Grants, ","), dash(strings.Join(c.Dialects, ",")),
		dash(strings.Join(c.RedirectURIs, ",")), strconv.FormatBool(c.Disabled)}
}

func (a *adminCLI) addUser(u config.User) error {
	out, err := a.c.CreateUser(u)
	return printOne(a, userHeader, userRow, out, err)
}

func (a *adminCLI) users() error {
	list, err := a.c.Users()
	return printList(a, userHeader, userRow, list, err)
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
	return printOne(a, authHeader, authRow, out, err)
}

func (a *adminCLI) authorizations() error {
	list, err := a.c.Authorizations()
	return printList(a, authHeader, authRow, list, err)
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
	return printList(a, []string{"ID", "KIND", "CLIENT", "USER", "DIALECT", "ISSUED", "EXPIRES", "REVOKED", "ACTIVE"},
		func(t admin.TokenInfo) []string {
			return []string{keyTail(t.ID), t.Kind, t.ClientID, dash(t.UserID), t.Dialect,
				t.Issued.Format(time.RFC3339), t.Expires.Format(time.RFC3339), strconv.FormatBool(t.Revoked), strconv.FormatBool(t.Active)}
		}, list, err)
}

// reset wipes the gateway's runtime state and says what went, from the
// API's answer, and whether the clock is still moved (reset leaves it).
func (a *adminCLI) reset(toConfig, keepClock bool) error {
	in := admin.ResetRequest{KeepClock: keepClock}
	if toConfig {
		in.To = "config"
	}
	answer, err := a.c.ResetWith(in)
	if err != nil {
		return err
	}
	if a.json {
		return a.print(answer, nil, nil)
	}
	fmt.Fprintln(a.out, "reset: "+strings.Join(answer.Cleared, ", "))
	if !answer.ClockReset {
		if s, err := a.c.Clock(); err == nil && (s.Frozen || s.Offset != "" && s.Offset != "0s") {
			fmt.Fprintf(a.out, "clock: kept at %s (offset %s, frozen %t); `tokengate admin clock reset` returns it to real time\n",
				s.Now, s.Offset, s.Frozen)
		}
	}
	return nil
}

// printOne prints the answer x of a call that returned err: one table row.
func printOne[T any](a *adminCLI, header []string, row func(T) []string, x T, err error) error {
	if err != nil {
		return err
	}
	return a.print(x, header, [][]string{row(x)})
}

// printList prints the answer list of a call that returned err: a table
// row per element.
func printList[T any](a *adminCLI, header []string, row func(T) []string, list []T, err error) error {
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, x := range list {
		rows = append(rows, row(x))
	}
	return a.print(list, header, rows)
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

// keyTail is the end of a token key, which tells tokens apart: keys begin
// with their issue time, which the access and refresh token of one grant
// share.
func keyTail(id string) string {
	if len(id) > 12 {
		return "…" + id[len(id)-11:]
	}
	return id
}
