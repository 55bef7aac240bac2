package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

const adminUsage = `usage: tokengate admin [--url URL] [--token TOKEN] [--json] COMMAND ...

  clock                              show the gateway clock
  clock advance DURATION             e.g. 2h, -30m
  clock set RFC3339                  e.g. 2030-01-01T00:00:00Z
  clock freeze | unfreeze | reset
  faults                             list fault rules with hit counts
  faults add [--dialect D] [--route R] [--client-id C] [--grant-type G]
             [--status N] [--code C] [--text T] [--retry-after D]
             [--latency D] [--drop] [--count N] [--probability P]
  faults rm ID | faults clear
  requests [--dialect D] [--client-id C] [--status N] [--since T|DURATION] [--limit N]
  requests clear
  clients | clients show ID | clients rm ID | clients revoke-tokens ID
  clients add --id ID --secret S [--grants g1,g2] [--redirect-uris u1,u2] [--dialects d1,d2] [--scopes s1,s2]
  users | users rm ID
  users add --id ID --username U [--password P] [--first-name F] [--last-name L] [--email E]
  authorizations | authorizations rm AUTH_ID
  authorizations add --auth-id N --auth-token T --user-id U --client-id C
  tokens [--client-id C] [--dialect D] [--kind access|refresh|code]
  dialects | dialects remove NAME
  dialects add FILE [--name N] [--prefix P] [--listen A]   mount a declared spec at once
  reset [--to-config]

--url defaults to $TOKENGATE_URL or http://127.0.0.1:8080; --token to
$TOKENGATE_ADMIN_TOKEN or demo-admin-token.
`

func adminCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	base := fs.String("url", envOr("TOKENGATE_URL", "http://127.0.0.1:8080"), "gateway base URL")
	token := fs.String("token", envOr("TOKENGATE_ADMIN_TOKEN", config.DemoAdminToken), "admin token")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return 2
	}
	cli := &adminCLI{c: &admin.Client{BaseURL: *base, Token: *token}, out: stdout, json: *asJSON}
	err := cli.run(rest)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s\n\n%s", ue, adminUsage)
		return 2
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

type usageError string

func (u usageError) Error() string { return string(u) }

type adminCLI struct {
	c    *admin.Client
	out  io.Writer
	json bool
}

func (a *adminCLI) run(args []string) error {
	cmd, sub := args[0], ""
	if len(args) > 1 {
		sub = args[1]
	}
	switch cmd {
	case "clock":
		return a.clock(args[1:])
	case "faults":
		return a.faults(args[1:])
	case "requests":
		if sub == "clear" {
			return a.c.ClearRequests()
		}
		return a.requests(args[1:])
	case "clients":
		return a.clients(args[1:])
	case "users":
		return a.users(args[1:])
	case "authorizations":
		return a.authorizations(args[1:])
	case "tokens":
		return a.tokens(args[1:])
	case "dialects":
		return a.dialects(args[1:])
	case "reset":
		fs := flag.NewFlagSet("reset", flag.ContinueOnError)
		to := fs.Bool("to-config", false, "also restore clients, users and authorizations to the config")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError(err.Error())
		}
		return a.c.Reset(*to)
	}
	return usageError("unknown admin command " + strconv.Quote(cmd))
}

func (a *adminCLI) clock(args []string) error {
	var s admin.ClockState
	var err error
	switch {
	case len(args) == 0:
		s, err = a.c.Clock()
	case args[0] == "advance" && len(args) == 2:
		d, perr := time.ParseDuration(args[1])
		if perr != nil {
			return usageError("clock advance: " + perr.Error())
		}
		s, err = a.c.AdvanceClock(d)
	case args[0] == "set" && len(args) == 2:
		t, perr := time.Parse(time.RFC3339Nano, args[1])
		if perr != nil {
			return usageError("clock set: " + perr.Error())
		}
		s, err = a.c.SetClock(t)
	case args[0] == "freeze":
		s, err = a.c.FreezeClock(true)
	case args[0] == "unfreeze":
		s, err = a.c.FreezeClock(false)
	case args[0] == "reset":
		s, err = a.c.ResetClock()
	default:
		return usageError("clock: unknown arguments")
	}
	if err != nil {
		return err
	}
	return a.print(s, []string{"NOW", "OFFSET", "FROZEN"}, [][]string{{s.Now, s.Offset, strconv.FormatBool(s.Frozen)}})
}

func (a *adminCLI) faults(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "clear":
			return a.c.ClearFaults()
		case "rm":
			if len(args) != 2 {
				return usageError("faults rm ID")
			}
			return a.c.DeleteFault(args[1])
		case "add":
			var r control.Rule
			fs := flag.NewFlagSet("faults add", flag.ContinueOnError)
			fs.StringVar(&r.Dialect, "dialect", "", "")
			fs.StringVar(&r.Route, "route", "", "")
			fs.StringVar(&r.ClientID, "client-id", "", "")
			fs.StringVar(&r.GrantType, "grant-type", "", "")
			fs.IntVar(&r.Status, "status", 0, "")
			fs.StringVar(&r.Code, "code", "", "")
			fs.StringVar(&r.Text, "text", "", "")
			fs.Func("retry-after", "", func(v string) error {
				d, err := time.ParseDuration(v)
				r.RetryAfter = control.Seconds(d)
				return err
			})
			fs.StringVar(&r.Latency, "latency", "", "")
			fs.BoolVar(&r.Drop, "drop", false, "")
			fs.IntVar(&r.Count, "count", 0, "")
			fs.Float64Var(&r.Prob, "probability", 0, "")
			if err := fs.Parse(args[1:]); err != nil {
				return usageError(err.Error())
			}
			out, err := a.c.AddFault(r)
			if err != nil {
				return err
			}
			return a.print(out, faultHeader, [][]string{faultRow(out)})
		}
		return usageError("faults: unknown arguments")
	}
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

func (a *adminCLI) requests(args []string) error {
	var f control.Filter
	var since string
	fs := flag.NewFlagSet("requests", flag.ContinueOnError)
	fs.StringVar(&f.Dialect, "dialect", "", "")
	fs.StringVar(&f.ClientID, "client-id", "", "")
	fs.IntVar(&f.Status, "status", 0, "")
	fs.StringVar(&since, "since", "", "")
	fs.IntVar(&f.Limit, "limit", 0, "")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
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

func (a *adminCLI) clients(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "show":
			if len(args) != 2 {
				return usageError("clients show ID")
			}
			c, err := a.c.GetClient(args[1])
			if err != nil {
				return err
			}
			return a.print(c, clientHeader, [][]string{clientRow(c)})
		case "rm":
			if len(args) != 2 {
				return usageError("clients rm ID")
			}
			return a.c.DeleteClient(args[1])
		case "revoke-tokens":
			if len(args) != 2 {
				return usageError("clients revoke-tokens ID")
			}
			n, err := a.c.RevokeClientTokens(args[1])
			if err != nil {
				return err
			}
			return a.print(map[string]int{"revoked": n}, []string{"REVOKED"}, [][]string{{strconv.Itoa(n)}})
		case "add":
			var c config.Client
			var grants, uris, dialects, scopes string
			fs := flag.NewFlagSet("clients add", flag.ContinueOnError)
			fs.StringVar(&c.ClientID, "id", "", "")
			fs.StringVar(&c.ClientSecret, "secret", "", "")
			fs.StringVar(&grants, "grants", "client_credentials", "")
			fs.StringVar(&uris, "redirect-uris", "", "")
			fs.StringVar(&dialects, "dialects", "", "")
			fs.StringVar(&scopes, "scopes", "", "")
			if err := fs.Parse(args[1:]); err != nil {
				return usageError(err.Error())
			}
			c.Grants, c.RedirectURIs, c.Dialects, c.Scopes = split(grants), split(uris), split(dialects), split(scopes)
			out, err := a.c.CreateClient(c)
			if err != nil {
				return err
			}
			return a.print(out, clientHeader, [][]string{clientRow(out)})
		}
		return usageError("clients: unknown arguments")
	}
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

func (a *adminCLI) users(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "rm":
			if len(args) != 2 {
				return usageError("users rm ID")
			}
			return a.c.DeleteUser(args[1])
		case "add":
			var u config.User
			fs := flag.NewFlagSet("users add", flag.ContinueOnError)
			fs.StringVar(&u.UserID, "id", "", "")
			fs.StringVar(&u.Username, "username", "", "")
			fs.StringVar(&u.Password, "password", "", "")
			fs.StringVar(&u.FirstName, "first-name", "", "")
			fs.StringVar(&u.LastName, "last-name", "", "")
			fs.StringVar(&u.Email, "email", "", "")
			if err := fs.Parse(args[1:]); err != nil {
				return usageError(err.Error())
			}
			out, err := a.c.CreateUser(u)
			if err != nil {
				return err
			}
			return a.print(out, userHeader, [][]string{userRow(out)})
		}
		return usageError("users: unknown arguments")
	}
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

func (a *adminCLI) authorizations(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "rm":
			if len(args) != 2 {
				return usageError("authorizations rm AUTH_ID")
			}
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				return usageError("AUTH_ID must be an integer")
			}
			return a.c.DeleteAuthorization(id)
		case "add":
			var x config.Authorization
			fs := flag.NewFlagSet("authorizations add", flag.ContinueOnError)
			fs.Int64Var(&x.AuthID, "auth-id", 0, "")
			fs.StringVar(&x.AuthToken, "auth-token", "", "")
			fs.StringVar(&x.UserID, "user-id", "", "")
			fs.StringVar(&x.ClientID, "client-id", "", "")
			if err := fs.Parse(args[1:]); err != nil {
				return usageError(err.Error())
			}
			out, err := a.c.CreateAuthorization(x)
			if err != nil {
				return err
			}
			return a.print(out, authHeader, [][]string{authRow(out)})
		}
		return usageError("authorizations: unknown arguments")
	}
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

func (a *adminCLI) tokens(args []string) error {
	q := url.Values{}
	fs := flag.NewFlagSet("tokens", flag.ContinueOnError)
	clientID := fs.String("client-id", "", "")
	dialect := fs.String("dialect", "", "")
	kind := fs.String("kind", "", "")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	for k, v := range map[string]string{"client_id": *clientID, "dialect": *dialect, "kind": *kind} {
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

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
