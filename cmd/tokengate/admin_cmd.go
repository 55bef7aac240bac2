package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/admin"
	"github.com/tokengate/tokengate/dialects/control"
)

const defaultAdminURL = "http://127.0.0.1:8080"

// adminFlags are the persistent flags of `tokengate admin`.
type adminFlags struct {
	url, token string
	json       bool
}

// adminRunner builds the RunE of admin subcommands: body runs against the
// admin client; an API error is printed as a sentence about what (exit 1),
// a usageError goes back to run (exit 2).
type adminRunner struct {
	flags          adminFlags
	stdout, stderr io.Writer
}

func (r *adminRunner) run(what string, body func(a *adminCLI, args []string) error) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		base := firstSet(r.flags.url, os.Getenv("TOKENGATE_URL"), defaultAdminURL)
		token := firstSet(r.flags.token, os.Getenv("TOKENGATE_ADMIN_TOKEN"), config.DemoAdminToken)
		a := &adminCLI{c: &admin.Client{BaseURL: base, Token: token}, out: r.stdout, json: r.flags.json}
		err := body(a, args)
		var ue usageError
		var ne *url.Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ue):
			return ue
		}
		if errors.As(err, &ne) {
			fmt.Fprintf(r.stderr, "cannot reach the gateway at %s (is it running? set --url or $TOKENGATE_URL): %v\n", base, ne.Err)
		} else {
			fmt.Fprintln(r.stderr, describeAPIError(err, what))
		}
		return exitCode(exitFailure)
	}
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// adminCommand is `tokengate admin` and its subcommands.
func adminCommand(stdout, stderr io.Writer) *cobra.Command {
	r := &adminRunner{stdout: stdout, stderr: stderr}
	c := group(&cobra.Command{
		Use:   "admin [--url URL] [--token TOKEN] [--json] COMMAND ...",
		Short: "Drive a running gateway: clock, faults, journal, clients, users, tokens",
		Long: `Call the admin API (/_admin) of a running gateway: move its clock, inject
faults, read the request journal, manage clients, users, authorizations and
tokens, reset it between tests. Tables by default, --json for scripts. The
flags --url, --token and --json may appear anywhere after "admin".`,
	}, clockCmd(r), faultsCmd(r), requestsCmd(r), clientsCmd(r), usersCmd(r), authorizationsCmd(r), tokensCmd(r), dialectsCmd(r), resetCmd(r))
	pf := c.PersistentFlags()
	pf.StringVar(&r.flags.url, "url", "", "gateway base `URL` (default: $TOKENGATE_URL, else "+defaultAdminURL+")")
	pf.StringVar(&r.flags.token, "token", "", "admin bearer `TOKEN` (default: $TOKENGATE_ADMIN_TOKEN, else "+config.DemoAdminToken+")")
	pf.BoolVar(&r.flags.json, "json", false, "print JSON instead of tables")
	return c
}

func clockCmd(r *adminRunner) *cobra.Command {
	op := func(name string) func(a *adminCLI, args []string) error {
		return func(a *adminCLI, args []string) error {
			arg := ""
			if len(args) > 0 {
				arg = args[0]
			}
			return a.clock(name, arg)
		}
	}
	advance := &cobra.Command{
		Use:   "advance DURATION",
		Short: "Move the gateway clock by a duration, e.g. 2h or -30m",
		Long: `Move the gateway clock forward (or back, with a negative duration such as
-30m) by a Go duration. Every expiry decision, iat and exp follows it, so
tokens expire without sleeping.`,
		Args: exactArgs(1),
		RunE: r.run("clock change", op("advance")),
	}
	negativeArgs(advance)
	return group(&cobra.Command{
		Use:   "clock [advance DURATION | set RFC3339 | freeze | unfreeze | reset]",
		Short: "Show or move the gateway clock",
		Long: `Show the gateway clock (now, offset from real time, frozen or not), or move it.
Every subcommand prints the clock as it is afterwards.`,
		RunE: r.run("clock request", op("")),
	}, advance, &cobra.Command{
		Use:   "set RFC3339",
		Short: "Set the gateway clock to a time, e.g. 2030-01-01T00:00:00Z",
		Long:  `Set the gateway clock to an RFC 3339 time; it keeps running from there unless frozen.`,
		Args:  exactArgs(1),
		RunE:  r.run("clock change", op("set")),
	}, &cobra.Command{
		Use:   "freeze",
		Short: "Stop the gateway clock",
		Long:  `Stop the gateway clock where it is: time does not pass until unfreeze or reset.`,
		Args:  noArgs,
		RunE:  r.run("clock change", op("freeze")),
	}, &cobra.Command{
		Use:   "unfreeze",
		Short: "Let a frozen gateway clock run again",
		Long:  `Let a frozen gateway clock run again from where it stopped, keeping its offset.`,
		Args:  noArgs,
		RunE:  r.run("clock change", op("unfreeze")),
	}, &cobra.Command{
		Use:   "reset",
		Short: "Return the gateway clock to real time",
		Long:  `Return the gateway clock to real time: no offset, not frozen.`,
		Args:  noArgs,
		RunE:  r.run("clock change", op("reset")),
	})
}

// negativeNumber matches an argument that starts like a negative number
// (-30m). No tokengate flag starts with a digit, so it is a value.
var negativeNumber = regexp.MustCompile(`^-[0-9.]`)

// negativeArgs lets c take negative durations as positional arguments:
// pflag would read "-30m" as the shorthand flags -3 -0 -m. c parses its own
// flags with those arguments set aside.
func negativeArgs(c *cobra.Command) {
	c.DisableFlagParsing = true
	run, check := c.RunE, c.Args
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		var values, rest []string
		for _, a := range args {
			if negativeNumber.MatchString(a) {
				values = append(values, a)
			} else {
				rest = append(rest, a)
			}
		}
		cmd.DisableFlagParsing = false
		if err := cmd.ParseFlags(rest); err != nil {
			return err
		}
		if help, _ := cmd.Flags().GetBool("help"); help {
			return cmd.Help()
		}
		args = append(values, cmd.Flags().Args()...)
		if err := check(cmd, args); err != nil {
			return err
		}
		return run(cmd, args)
	}
}

func faultsCmd(r *adminRunner) *cobra.Command {
	var rule control.Rule
	add := &cobra.Command{
		Use: "add [--dialect D] [--route R] [--client-id C] [--grant-type G] [--status N] [--code C]\n" +
			"                             [--text T] [--retry-after D] [--latency D] [--drop] [--count N] [--probability P]",
		Short: "Add a fault rule: answer matching requests with an error, a delay or a dropped connection",
		Long: `Add a fault rule. A request that matches every given selector (dialect,
route, client id, grant type) gets the rule's action instead of the real
answer: an error status in the dialect's own error format (--status, --code,
--text, a Retry-After header with --retry-after), a delay (--latency) or a
dropped connection (--drop). --count limits
how many requests it hits (0: unlimited), --probability makes it hit only a
share of them. Prints the rule with its id.`,
		Args: noArgs,
		RunE: r.run("fault rule", func(a *adminCLI, _ []string) error { return a.addFault(rule) }),
	}
	f := add.Flags()
	f.StringVar(&rule.Dialect, "dialect", "", "only requests to this dialect")
	f.StringVar(&rule.Route, "route", "", "only requests to this route, e.g. /oauth2/token")
	f.StringVar(&rule.ClientID, "client-id", "", "only requests from this client id")
	f.StringVar(&rule.GrantType, "grant-type", "", "only requests with this grant_type")
	f.IntVar(&rule.Status, "status", 0, "answer with this HTTP status (400-599) in the dialect's error format")
	f.StringVar(&rule.Code, "code", "", "the error code in the answer (default: the dialect's code for the status)")
	f.StringVar(&rule.Text, "text", "", "the error text in the answer")
	f.Func("retry-after", "send Retry-After with this Go `DURATION` (whole seconds), e.g. 3s", func(v string) error {
		d, err := time.ParseDuration(v)
		rule.RetryAfter = control.Seconds(d)
		return err
	})
	f.StringVar(&rule.Latency, "latency", "", "delay the answer by this Go duration, e.g. 250ms")
	f.BoolVar(&rule.Drop, "drop", false, "close the connection without an answer")
	f.IntVar(&rule.Count, "count", 0, "hit at most this many requests, then expire (0: no limit)")
	f.Float64Var(&rule.Prob, "probability", 0, "hit a matching request with this probability, 0 to 1 (0: always)")
	return group(&cobra.Command{
		Use:   "faults [add ... | rm ID | clear]",
		Short: "List, add and remove fault rules",
		Long:  `List the fault rules with how many requests each has hit, or add and remove rules.`,
		RunE:  r.run("fault request", func(a *adminCLI, _ []string) error { return a.faults() }),
	}, add, &cobra.Command{
		Use:   "rm ID",
		Short: "Remove one fault rule",
		Long:  `Remove the fault rule with this id (as printed by faults add and faults).`,
		Args:  exactArgs(1),
		RunE:  r.run("fault rule", func(a *adminCLI, args []string) error { return a.c.DeleteFault(args[0]) }),
	}, &cobra.Command{
		Use:   "clear",
		Short: "Remove every fault rule",
		Long:  `Remove every fault rule: the gateway answers normally again.`,
		Args:  noArgs,
		RunE:  r.run("fault request", func(a *adminCLI, _ []string) error { return a.c.ClearFaults() }),
	})
}

func requestsCmd(r *adminRunner) *cobra.Command {
	var f control.Filter
	var since string
	c := group(&cobra.Command{
		Use:   "requests [--dialect D] [--client-id C] [--status N] [--since T|DURATION] [--limit N] | requests clear",
		Short: "Show what clients sent: the request journal, secrets redacted",
		Long: `Show the request journal: every request the dialects received, newest last,
with its route, client, grant, status, latency and error, secrets redacted.
The flags filter it; --json shows headers and parameters too.`,
		RunE: r.run("journal filter", func(a *adminCLI, _ []string) error { return a.requests(f, since) }),
	}, &cobra.Command{
		Use:   "clear",
		Short: "Empty the request journal",
		Long:  `Empty the request journal, e.g. between two tests.`,
		Args:  noArgs,
		RunE:  r.run("journal request", func(a *adminCLI, _ []string) error { return a.c.ClearRequests() }),
	})
	fl := c.Flags()
	fl.StringVar(&f.Dialect, "dialect", "", "only requests to this dialect")
	fl.StringVar(&f.ClientID, "client-id", "", "only requests from this client id")
	fl.IntVar(&f.Status, "status", 0, "only answers with this HTTP status")
	fl.StringVar(&since, "since", "", "only requests since an RFC 3339 time, or within a duration such as 5m")
	fl.IntVar(&f.Limit, "limit", 0, "at most this many entries, the newest (0: all kept)")
	return c
}

func clientsCmd(r *adminRunner) *cobra.Command {
	var cl config.Client
	var grants, uris, dialects, scopes string
	add := &cobra.Command{
		Use:   "add --id ID --secret S [--grants g1,g2] [--redirect-uris u1,u2] [--dialects d1,d2] [--scopes s1,s2]",
		Short: "Register a client",
		Long: `Register a client with its secret (stored hashed) and what it may do. Lists
are comma-separated. The gateway validates it as it validates the config.`,
		Args: noArgs,
		RunE: r.run("client", func(a *adminCLI, _ []string) error { return a.addClient(cl, grants, uris, dialects, scopes) }),
	}
	f := add.Flags()
	f.StringVar(&cl.ClientID, "id", "", "client id")
	f.StringVar(&cl.ClientSecret, "secret", "", "client secret")
	f.StringVar(&grants, "grants", "client_credentials", "grant types it may use, comma-separated")
	f.StringVar(&uris, "redirect-uris", "", "registered redirect URIs, comma-separated")
	f.StringVar(&dialects, "dialects", "", "dialects it may use, comma-separated (default: all)")
	f.StringVar(&scopes, "scopes", "", "scopes it may ask for, comma-separated")
	return group(&cobra.Command{
		Use:   "clients [show ID | add ... | rm ID | revoke-tokens ID]",
		Short: "List, show, add and remove clients",
		Long:  `List the registered clients (secrets are never shown), or show, add and remove one.`,
		RunE:  r.run("client request", func(a *adminCLI, _ []string) error { return a.clients() }),
	}, add, &cobra.Command{
		Use:   "show ID",
		Short: "Show one client",
		Long:  `Show one client: grants, dialects, redirect URIs, whether it is disabled.`,
		Args:  exactArgs(1),
		RunE:  r.run("client", func(a *adminCLI, args []string) error { return a.showClient(args[0]) }),
	}, &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a client",
		Long:  `Remove a client; its tokens stop working.`,
		Args:  exactArgs(1),
		RunE:  r.run("client", func(a *adminCLI, args []string) error { return a.c.DeleteClient(args[0]) }),
	}, &cobra.Command{
		Use:   "revoke-tokens ID",
		Short: "Revoke every token of a client",
		Long:  `Revoke every access and refresh token of a client and print how many were revoked.`,
		Args:  exactArgs(1),
		RunE:  r.run("client", func(a *adminCLI, args []string) error { return a.revokeClientTokens(args[0]) }),
	})
}

func usersCmd(r *adminRunner) *cobra.Command {
	var u config.User
	add := &cobra.Command{
		Use:   "add --id ID --username U [--password P] [--first-name F] [--last-name L] [--email E]",
		Short: "Add a user",
		Long:  `Add a user who can sign in on the login pages (the password is stored hashed).`,
		Args:  noArgs,
		RunE:  r.run("user", func(a *adminCLI, _ []string) error { return a.addUser(u) }),
	}
	f := add.Flags()
	f.StringVar(&u.UserID, "id", "", "user id")
	f.StringVar(&u.Username, "username", "", "login name")
	f.StringVar(&u.Password, "password", "", "login password")
	f.StringVar(&u.FirstName, "first-name", "", "first name")
	f.StringVar(&u.LastName, "last-name", "", "last name")
	f.StringVar(&u.Email, "email", "", "email address")
	return group(&cobra.Command{
		Use:   "users [add ... | rm ID]",
		Short: "List, add and remove users",
		Long:  `List the users (passwords are never shown), or add and remove one.`,
		RunE:  r.run("user request", func(a *adminCLI, _ []string) error { return a.users() }),
	}, add, &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a user",
		Long:  `Remove a user and what belongs to them.`,
		Args:  exactArgs(1),
		RunE:  r.run("user", func(a *adminCLI, args []string) error { return a.c.DeleteUser(args[0]) }),
	})
}

func authorizationsCmd(r *adminRunner) *cobra.Command {
	var x config.Authorization
	add := &cobra.Command{
		Use:   "add --auth-id N --auth-token T --user-id U --client-id C",
		Short: "Add an authorization (a user's grant to a client)",
		Long: `Add an authorization: the Accounda-style record that a user has authorized a
client, with its numeric auth_id and its auth token (stored hashed).`,
		Args: noArgs,
		RunE: r.run("authorization", func(a *adminCLI, _ []string) error { return a.addAuthorization(x) }),
	}
	f := add.Flags()
	f.Int64Var(&x.AuthID, "auth-id", 0, "numeric authorization id")
	f.StringVar(&x.AuthToken, "auth-token", "", "authorization token")
	f.StringVar(&x.UserID, "user-id", "", "the user who authorized")
	f.StringVar(&x.ClientID, "client-id", "", "the client authorized")
	return group(&cobra.Command{
		Use:   "authorizations [add ... | rm AUTH_ID]",
		Short: "List, add and remove authorizations",
		Long:  `List the authorizations (auth tokens are never shown), or add and remove one.`,
		RunE:  r.run("authorization request", func(a *adminCLI, _ []string) error { return a.authorizations() }),
	}, add, &cobra.Command{
		Use:   "rm AUTH_ID",
		Short: "Remove an authorization",
		Long:  `Remove the authorization with this numeric auth_id.`,
		Args:  exactArgs(1),
		RunE:  r.run("authorization", func(a *adminCLI, args []string) error { return a.deleteAuthorization(args[0]) }),
	})
}

func tokensCmd(r *adminRunner) *cobra.Command {
	var clientID, dialect, kind string
	c := &cobra.Command{
		Use:   "tokens [--client-id C] [--dialect D] [--kind access|refresh|code]",
		Short: "List issued tokens (their ids, never the tokens)",
		Long: `List the tokens the gateway has issued: kind, client, user, dialect, issue and
expiry times, revoked or active. The ID column is the start of the stored
digest; the tokens themselves are not stored.`,
		Args: noArgs,
		RunE: r.run("token filter", func(a *adminCLI, _ []string) error { return a.tokens(clientID, dialect, kind) }),
	}
	f := c.Flags()
	f.StringVar(&clientID, "client-id", "", "only tokens of this client")
	f.StringVar(&dialect, "dialect", "", "only tokens issued by this dialect")
	f.StringVar(&kind, "kind", "", "only this kind: access, refresh or code")
	return c
}

func resetCmd(r *adminRunner) *cobra.Command {
	var toConfig, keepClock bool
	c := &cobra.Command{
		Use:   "reset [--to-config] [--keep-clock]",
		Short: "Wipe tokens, codes, the journal and fault rules; return the clock to real time",
		Long: `Wipe every token and authorization code, the request journal, the fault rules
and the failure limiter, and return the gateway clock to real time, e.g. between
two test suites; print what was reset. With --to-config, clients, users and
authorizations also return to what the config declares. With --keep-clock the
clock stays where it is (moved or frozen).`,
		Args: noArgs,
		RunE: r.run("reset request", func(a *adminCLI, _ []string) error { return a.reset(toConfig, keepClock) }),
	}
	c.Flags().BoolVar(&toConfig, "to-config", false, "also restore clients, users and authorizations to the config")
	c.Flags().BoolVar(&keepClock, "keep-clock", false, "leave the gateway clock where it is")
	return c
}
