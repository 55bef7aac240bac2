package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/tokengate/tokengate/core"
)

// ValidationError lists every problem found, one "path: message" line each,
// e.g. "clients[1].redirect_uris[0]: must be an absolute URL".
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// Validate checks a whole configuration (after defaults and ApplyEnv),
// including what needs the dialect registry (instance types, the dialects
// clients name, every enabled instance's options), and returns one
// *ValidationError naming every problem, or nil.
func Validate(c *Config, cat Catalog) error {
	problems, err := structProblems(c)
	if err != nil {
		return err
	}
	if c != nil {
		problems = append(problems, c.dialectProblems(cat)...)
	}
	return problemsError(problems)
}

// ValidateUser checks one user; paths are relative to it.
func ValidateUser(u *User) error { return run(u) }

// ValidateAuthorization checks one authorization; paths are relative to it.
// Whether its user and client exist is the caller's (the store's) business.
func ValidateAuthorization(a *Authorization) error { return run(a) }

func run(v any) error {
	problems, err := structProblems(v)
	if err != nil {
		return err
	}
	return problemsError(problems)
}

// problemsError sorts problems into one *ValidationError, or nil.
func problemsError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	// Map entries are validated in random order; sort for stable output.
	slices.SortStableFunc(problems, naturalCompare)
	return &ValidationError{Problems: problems}
}

// structProblems runs the validation tags and struct-level checks on v.
func structProblems(v any) ([]string, error) {
	if reflect.ValueOf(v).IsNil() {
		return []string{"is missing"}, nil
	}
	err := validate.Struct(v)
	if err == nil {
		return nil, nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return nil, err
	}
	problems := make([]string, 0, len(verrs))
	for _, fe := range verrs {
		path := fe.Namespace()
		if i := strings.IndexByte(path, '.'); i >= 0 {
			path = path[i+1:] // strip the root struct's name
		} else {
			path = ""
		}
		msg := message(fe)
		if path != "" {
			msg = path + ": " + msg
		}
		problems = append(problems, msg)
	}
	return problems, nil
}

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	must(v.RegisterValidation("hostport", func(fl validator.FieldLevel) bool { return isHostPort(fl.Field().String()) }))
	must(v.RegisterValidation("absurl", func(fl validator.FieldLevel) bool { return isAbsURL(fl.Field().String()) }))
	must(v.RegisterValidation("nofragment", func(fl validator.FieldLevel) bool {
		return !strings.Contains(fl.Field().String(), "#")
	}))
	must(v.RegisterValidation("instancename", func(fl validator.FieldLevel) bool { return IsInstanceName(fl.Field().String()) }))
	must(v.RegisterValidation("provider", func(fl validator.FieldLevel) bool {
		return slices.Contains(core.Providers, core.Provider(fl.Field().String()))
	}))
	must(v.RegisterValidation("scopetoken", func(fl validator.FieldLevel) bool { return isScopeToken(fl.Field().String()) }))
	must(v.RegisterValidation("identifier", func(fl validator.FieldLevel) bool { return core.ValidIdentifier(fl.Field().String()) }))
	must(v.RegisterValidation("safescheme", func(fl validator.FieldLevel) bool { return !unsafeScheme(fl.Field().String()) }))
	must(v.RegisterValidation("lifetime", func(fl validator.FieldLevel) bool {
		return time.Duration(fl.Field().Int()) <= core.MaxLifetime
	}))
	v.RegisterStructValidation(configLevel, Config{})
	v.RegisterStructValidation(storageLevel, Storage{})
	v.RegisterStructValidation(clientLevel, Client{})
	return v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Tags reported by the struct-level checks.
const (
	tagDuplicate      = "duplicate"        // param: the path of the first use
	tagNoClient       = "no_client"        // value: the client id
	tagNoUser         = "no_user"          // value: the user id
	tagPostgresURL    = "postgres_url"     // driver postgres, dsn no URL
	tagNotPostgresURL = "not_postgres_url" // driver sqlite, dsn a postgres URL
	tagCodeRedirect   = "code_redirect"    // authorization_code without redirect_uris
)

// configLevel checks what spans records: unique ids and usernames, and that
// authorizations name existing users and clients.
func configLevel(sl validator.StructLevel) {
	c := sl.Current().Interface().(Config)
	clients := map[string]int{}
	for i, cl := range c.Clients {
		if cl.ClientID == "" {
			continue
		}
		if first, ok := clients[cl.ClientID]; ok {
			sl.ReportError(cl.ClientID, fmt.Sprintf("clients[%d].client_id", i), "", tagDuplicate, fmt.Sprintf("clients[%d]", first))
			continue
		}
		clients[cl.ClientID] = i
	}
	users := map[string]int{}
	usernames := map[string]int{}
	for i, u := range c.Users {
		if u.UserID != "" {
			if first, ok := users[u.UserID]; ok {
				sl.ReportError(u.UserID, fmt.Sprintf("users[%d].user_id", i), "", tagDuplicate, fmt.Sprintf("users[%d]", first))
			} else {
				users[u.UserID] = i
			}
		}
		if u.Username != "" {
			if first, ok := usernames[u.Username]; ok {
				sl.ReportError(u.Username, fmt.Sprintf("users[%d].username", i), "", tagDuplicate, fmt.Sprintf("users[%d]", first))
			} else {
				usernames[u.Username] = i
			}
		}
	}
	auths := map[int64]int{}
	for i, a := range c.Authorizations {
		if a.AuthID > 0 {
			if first, ok := auths[a.AuthID]; ok {
				sl.ReportError(a.AuthID, fmt.Sprintf("authorizations[%d].auth_id", i), "", tagDuplicate, fmt.Sprintf("authorizations[%d]", first))
			} else {
				auths[a.AuthID] = i
			}
		}
		if _, ok := users[a.UserID]; a.UserID != "" && !ok {
			sl.ReportError(a.UserID, fmt.Sprintf("authorizations[%d].user_id", i), "", tagNoUser, "")
		}
		if _, ok := clients[a.ClientID]; a.ClientID != "" && !ok {
			sl.ReportError(a.ClientID, fmt.Sprintf("authorizations[%d].client_id", i), "", tagNoClient, "")
		}
	}
}

// storageLevel checks that the DSN fits the driver.
func storageLevel(sl validator.StructLevel) {
	s := sl.Current().Interface().(Storage)
	if s.DSN == "" {
		return
	}
	switch s.Driver {
	case "postgres":
		if u, err := url.Parse(s.DSN); err != nil || !isPostgresURL(s.DSN) || u.Host == "" {
			sl.ReportError(s.DSN, "dsn", "DSN", tagPostgresURL, "")
		}
	case "sqlite":
		if isPostgresURL(s.DSN) {
			sl.ReportError(s.DSN, "dsn", "DSN", tagNotPostgresURL, "")
		}
	}
}

// clientLevel checks that a client allowed the authorization_code grant has
// somewhere to send the code.
func clientLevel(sl validator.StructLevel) {
	c := sl.Current().Interface().(Client)
	if slices.Contains(c.Grants, string(core.GrantAuthorizationCode)) && len(c.RedirectURIs) == 0 {
		sl.ReportError(c.RedirectURIs, "redirect_uris", "RedirectURIs", tagCodeRedirect, "")
	}
}

// message renders one validator failure without its path.
func message(fe validator.FieldError) string {
	param := fe.Param()
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min":
		if k := fe.Kind(); k == reflect.Slice || k == reflect.Map {
			return fmt.Sprintf("must have at least %s entries", param)
		}
		return fmt.Sprintf("must be at least %s", param)
	case "gt":
		return fmt.Sprintf("must be greater than %s", param)
	case "gte":
		if param == "0" {
			return "must not be negative"
		}
		return fmt.Sprintf("must be at least %s", param)
	case "oneof":
		return fmt.Sprintf("must be one of %s, not %q", strings.Join(strings.Fields(param), ", "), fmt.Sprint(fe.Value()))
	case "unique":
		return "must not contain duplicates"
	case "email":
		return fmt.Sprintf("%q is not an email address", fmt.Sprint(fe.Value()))
	case "startswith":
		return fmt.Sprintf("must start with %q", param)
	case "hostport":
		return fmt.Sprintf("%q is not host:port (e.g. 127.0.0.1:8080)", fmt.Sprint(fe.Value()))
	case "absurl":
		return "must be an absolute URL"
	case "nofragment":
		return "must not contain a #fragment"
	case "instancename":
		return fmt.Sprintf("%q is not a dialect name (letters, digits, '.', '_' and '-')", fmt.Sprint(fe.Value()))
	case "provider":
		names := make([]string, len(core.Providers))
		for i, p := range core.Providers {
			names[i] = string(p)
		}
		return fmt.Sprintf("unknown provider %q (known: %s)", fmt.Sprint(fe.Value()), strings.Join(names, ", "))
	case "identifier":
		return fmt.Sprintf("must be at most %d bytes of UTF-8 without control characters", core.MaxIdentifierBytes)
	case "safescheme":
		return "must not use a javascript:, data:, vbscript: or file: URL (OAuth 2.1 §7.5.1)"
	case "lifetime":
		return fmt.Sprintf("must be at most %s (50 years)", core.MaxLifetime)
	case "scopetoken":
		return fmt.Sprintf("%q is not a scope token (printable ASCII without spaces, quotes or backslashes)", fmt.Sprint(fe.Value()))
	case tagDuplicate:
		return fmt.Sprintf("%v is already used by %s", quoteValue(fe.Value()), param)
	case tagNoClient:
		return fmt.Sprintf("names no client %q", fmt.Sprint(fe.Value()))
	case tagNoUser:
		return fmt.Sprintf("names no user %q", fmt.Sprint(fe.Value()))
	case tagPostgresURL:
		return "must be a postgres:// or postgresql:// URL when driver is postgres"
	case tagNotPostgresURL:
		return "is a postgres URL but driver is sqlite"
	case tagCodeRedirect:
		return "is required for the authorization_code grant"
	}
	if param != "" {
		return fmt.Sprintf("fails %s=%s", fe.Tag(), param)
	}
	return "fails " + fe.Tag()
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// isHostPort accepts host:port with a numeric port 0-65535 (0: any free
// port) and an empty host, an IP address or a host name.
func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return false
	}
	if host == "" || net.ParseIP(host) != nil {
		return true
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// isAbsURL accepts a URL with a scheme; http and https ones need a host.
// Custom schemes (com.example.app:/callback) serve native apps.
func isAbsURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	}
	return u.Opaque != "" || u.Path != "" || u.Host != ""
}

// unsafeScheme reports a redirect URI whose scheme runs code or reads
// local files in a browser instead of reaching a client.
func unsafeScheme(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return false // absurl reports it
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return true
	}
	return false
}

// isScopeToken follows RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

// naturalCompare orders strings with digit runs compared as numbers, so
// clients[2] sorts before clients[10].
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			da, db := digitRun(a), digitRun(b)
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
