package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults applied to omitted fields.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultLogLevel       = "info"
	DefaultLogFormat      = "auto"
	DefaultStorageDriver  = "sqlite"
	DefaultSQLiteDSN      = "tokengate.db"
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxParams      = 100
	// DefaultAuthFailureBurst failures per key, then DefaultAuthFailuresPerMinute.
	DefaultAuthFailureBurst      = 20
	DefaultAuthFailuresPerMinute = 10.0
	DefaultReadHeaderTimeout     = 5 * time.Second
	DefaultReadTimeout           = 15 * time.Second
	DefaultWriteTimeout          = 15 * time.Second
	DefaultIdleTimeout           = 60 * time.Second
	DefaultJournalSize           = 1000
	DefaultJournalMaxBytes       = 8 << 20
	DefaultSweepInterval         = time.Minute
)

// The demo credentials of default.yaml; UsesDemoCredentials looks for them.
const (
	DemoAdminToken = "demo-admin-token"
	DemoSecret     = "demo-secret"
	DemoPassword   = "demo-password"
	DemoAuthToken  = "demo-auth-token"
)

// Config is the whole configuration file.
type Config struct {
	Listen   string `yaml:"listen" validate:"required,hostport"`
	LogLevel string `yaml:"log_level" validate:"required,oneof=debug info warn error"`
	// LogFormat is json, text, or auto: text on a terminal, JSON otherwise.
	LogFormat string `yaml:"log_format" validate:"required,oneof=auto json text"`
	// AdminToken is the bearer token of /_admin; empty leaves the admin API
	// without a token (the server decides whether that disables it).
	AdminToken string `yaml:"admin_token"`
	// AdminListen is an optional separate address for /_admin.
	AdminListen string `yaml:"admin_listen,omitempty" validate:"omitempty,hostport"`
	// AdminAllowedHosts are host names /_admin answers on a loopback
	// listener besides the loopback ones (localhost, *.localhost,
	// 127.0.0.0/8, ::1): a web page that rebinds its own name to 127.0.0.1
	// gets 403.
	AdminAllowedHosts []string `yaml:"admin_allowed_hosts,omitempty" validate:"dive,required"`
	Storage           Storage  `yaml:"storage"`
	Limits            Limits   `yaml:"limits"`
	// JournalSize is how many recent requests the admin journal keeps, and
	// JournalMaxBytes the memory they may hold; the oldest go first.
	JournalSize     int   `yaml:"journal_size" validate:"gt=0"`
	JournalMaxBytes int64 `yaml:"journal_max_bytes" validate:"gte=65536"`
	// SweepInterval is how often expired tokens are deleted.
	SweepInterval Duration `yaml:"sweep_interval" validate:"gt=0"`
	// Metrics configures /metrics on the admin listener.
	Metrics Metrics `yaml:"metrics"`
	// Console configures the web console at /_admin/ui on the admin listener.
	Console Console `yaml:"console"`
	// Dialects maps an instance name to its settings; every instance named
	// is enabled unless it says enabled: false. An instance's type defaults
	// to its name. A file without a dialects key enables every registered
	// type under its own name, with its defaults.
	Dialects       map[string]DialectConfig `yaml:"dialects" validate:"dive,keys,instancename,endkeys"`
	Clients        []Client                 `yaml:"clients" validate:"dive"`
	Users          []User                   `yaml:"users" validate:"dive"`
	Authorizations []Authorization          `yaml:"authorizations" validate:"dive"`
	// BaseDir is the directory relative file names in dialect options
	// (a declared dialect's spec) are read from: the config file's
	// directory (Load sets it), "" for the working directory.
	BaseDir string `yaml:"-"`
}

// Storage selects the database.
type Storage struct {
	Driver string `yaml:"driver" validate:"required,oneof=sqlite postgres"`
	// DSN is a file path for sqlite (":memory:" allowed) or a postgres:// URL.
	DSN string `yaml:"dsn" validate:"required"`
	// Connection pool of the postgres driver; zero: the driver's defaults
	// (16 open, 8 idle, 30m lifetime).
	MaxOpenConns    int      `yaml:"max_open_conns,omitempty" validate:"gte=0"`
	MaxIdleConns    int      `yaml:"max_idle_conns,omitempty" validate:"gte=0"`
	ConnMaxLifetime Duration `yaml:"conn_max_lifetime,omitempty" validate:"gte=0"`
}

// Limits bound what one HTTP request may cost.
type Limits struct {
	MaxBodyBytes      int64    `yaml:"max_body_bytes" validate:"gt=0"`
	MaxHeaderBytes    int      `yaml:"max_header_bytes" validate:"gt=0"`
	MaxParams         int      `yaml:"max_params" validate:"gt=0"`
	ReadHeaderTimeout Duration `yaml:"read_header_timeout" validate:"gt=0"`
	ReadTimeout       Duration `yaml:"read_timeout" validate:"gt=0"`
	WriteTimeout      Duration `yaml:"write_timeout" validate:"gt=0"`
	IdleTimeout       Duration `yaml:"idle_timeout" validate:"gt=0"`
	// AuthFailures rate-limits failed client authentications and logins.
	AuthFailures AuthFailures `yaml:"auth_failures"`
	// MaxConnections caps the connections each listener holds open; more
	// wait in the kernel's backlog. 0: min(4096, a quarter of the process's
	// file-descriptor limit).
	MaxConnections int `yaml:"max_connections,omitempty" validate:"gte=0"`
}

// Metrics configures the Prometheus metrics at /metrics on the admin
// listener.
type Metrics struct {
	// Enabled defaults to true; false collects nothing and serves no
	// /metrics.
	Enabled *bool `yaml:"enabled,omitempty"`
	// Token is a bearer token for /metrics alone; the admin token works too.
	Token string `yaml:"token,omitempty"`
	// RequireToken asks for a token even when the admin listener is a
	// loopback address (where /metrics is open by default).
	RequireToken bool `yaml:"require_token,omitempty"`
}

// IsEnabled reports whether metrics are collected: unless enabled: false.
func (m Metrics) IsEnabled() bool { return m.Enabled == nil || *m.Enabled }

// Console configures the web console.
type Console struct {
	// Enabled defaults to true; false serves no console, and the request
	// journal feeds no live view.
	Enabled *bool `yaml:"enabled,omitempty"`
}

// IsEnabled reports whether the console is served: unless enabled: false.
func (c Console) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// AuthFailures is the brute-force limiter: token buckets of failures per
// client id or username from one source address (Burst, PerMinute) and
// from every source (IdentityBurst, IdentityPerMinute; default 5 × those),
// at most MaxKeys buckets (default 65536, about 160 bytes each).
type AuthFailures struct {
	// Disabled turns the limiter off (load tests).
	Disabled          bool    `yaml:"disabled,omitempty"`
	Burst             int     `yaml:"burst" validate:"gte=0"`
	PerMinute         float64 `yaml:"per_minute" validate:"gte=0"`
	IdentityBurst     int     `yaml:"identity_burst,omitempty" validate:"gte=0"`
	IdentityPerMinute float64 `yaml:"identity_per_minute,omitempty" validate:"gte=0"`
	MaxKeys           int     `yaml:"max_keys,omitempty" validate:"gte=0"`
}

// DialectConfig is one dialect instance's settings. The keys every dialect
// shares are fields; any other key lands in Options for the dialect to
// DecodeOptions.
type DialectConfig struct {
	// Type names the registered dialect type; empty: the instance's name.
	Type string `yaml:"type,omitempty"`
	// Enabled defaults to true for a dialect named in the file.
	Enabled *bool `yaml:"enabled,omitempty"`
	// Prefix mounts the dialect under a path prefix (e.g. /errorid).
	Prefix string `yaml:"prefix,omitempty" validate:"omitempty,startswith=/"`
	// Listen serves the dialect on its own address as well.
	Listen string `yaml:"listen,omitempty" validate:"omitempty,hostport"`
	// AccessTokenTTL and RefreshTokenTTL override the dialect's lifetimes when non-zero.
	AccessTokenTTL  Duration       `yaml:"access_token_ttl,omitempty" validate:"gte=0,lifetime"`
	RefreshTokenTTL Duration       `yaml:"refresh_token_ttl,omitempty" validate:"gte=0,lifetime"`
	Options         map[string]any `yaml:",inline"`
}

// IsEnabled reports whether the dialect is on: unless it says enabled: false.
func (d DialectConfig) IsEnabled() bool { return d.Enabled == nil || *d.Enabled }

// InstanceType is the type of the instance called name: Type, or the name.
func (d DialectConfig) InstanceType(name string) string {
	if d.Type != "" {
		return d.Type
	}
	return name
}

// DecodeOptions decodes the dialect-specific keys into out (a pointer to the
// dialect's own options struct with yaml tags). Keys out does not declare
// are errors, so typos fail config check. Problems come back as a
// *ValidationError whose paths are relative to the options
// ("require_bearr: unknown key"); what decodes is set even then.
func (d DialectConfig) DecodeOptions(out any) error {
	opts := d.Options
	if opts == nil {
		opts = map[string]any{}
	}
	data, err := yaml.Marshal(opts)
	if err != nil {
		return &ValidationError{Problems: []string{err.Error()}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(out)
	var te *yaml.TypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		// The line numbers point into the re-encoded options, not the
		// file: only the paths are kept.
		return &ValidationError{Problems: typeErrorProblems(data, te, reflect.TypeOf(out), false)}
	}
	return &ValidationError{Problems: []string{err.Error()}}
}

// Problems collects problems in a dialect's options, each "key: message"
// relative to the options; Err returns them as one *ValidationError.
type Problems struct{ list []string }

// Add records a problem with key (a path below the options).
func (p *Problems) Add(key, format string, args ...any) {
	p.list = append(p.list, key+": "+fmt.Sprintf(format, args...))
}

// Merge records err's problems: a *ValidationError's each, anything else as
// one.
func (p *Problems) Merge(err error) {
	var ve *ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		p.list = append(p.list, ve.Problems...)
	default:
		p.list = append(p.list, err.Error())
	}
}

// Err is nil without problems, else a *ValidationError listing them.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: slices.Clone(p.list)}
}

// Client is a configured OAuth2 client. The admin API uses it as its JSON body.
type Client struct {
	ClientID string `yaml:"client_id" json:"client_id" validate:"required,identifier"`
	// ClientSecret is plain text here; it is hashed on its way to core.
	// Required unless token_endpoint_auth_method is none or private_key_jwt.
	ClientSecret string `yaml:"client_secret,omitempty" json:"client_secret,omitempty"`
	// Grants are grant type names; device_code, token_exchange and
	// jwt_bearer are short for the extension grants' URNs.
	Grants       []string `yaml:"grants" json:"grants" validate:"required,min=1,unique,dive,grant"`
	RedirectURIs []string `yaml:"redirect_uris,omitempty" json:"redirect_uris,omitempty" validate:"unique,dive,absurl,nofragment,safescheme"`
	// Dialects limits the client to these dialect instances; a type name
	// allows every instance of the type. Empty: all.
	Dialects []string `yaml:"dialects,omitempty" json:"dialects,omitempty" validate:"unique,dive,instancename"`
	// Scopes limits the scopes the client may request; empty: any.
	Scopes          []string   `yaml:"scopes,omitempty" json:"scopes,omitempty" validate:"unique,dive,scopetoken"`
	AccessTokenTTL  Duration   `yaml:"access_token_ttl,omitempty" json:"access_token_ttl,omitempty" validate:"gte=0,lifetime"`
	RefreshTokenTTL Duration   `yaml:"refresh_token_ttl,omitempty" json:"refresh_token_ttl,omitempty" validate:"gte=0,lifetime"`
	AllowPlainPKCE  bool       `yaml:"allow_plain_pkce,omitempty" json:"allow_plain_pkce,omitempty"`
	Disabled        bool       `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	ExpiresAt       *time.Time `yaml:"expires_at,omitempty" json:"expires_at,omitempty"`

	// OpenID Connect and the extension grants (core.ClientSettings).

	// TokenEndpointAuthMethod: client_secret_basic, client_secret_post,
	// client_secret_jwt, private_key_jwt or none (a public client: no
	// secret, PKCE S256 required). Empty accepts either secret method.
	TokenEndpointAuthMethod string `yaml:"token_endpoint_auth_method,omitempty" json:"token_endpoint_auth_method,omitempty" validate:"omitempty,oneof=client_secret_basic client_secret_post client_secret_jwt private_key_jwt none"`
	// JWKS is the client's JWK Set (public keys) inline, JWKSURI where to
	// fetch it: for private_key_jwt and the JWT bearer grant.
	JWKS    map[string]any `yaml:"jwks,omitempty" json:"jwks,omitempty"`
	JWKSURI string         `yaml:"jwks_uri,omitempty" json:"jwks_uri,omitempty" validate:"omitempty,absurl,nofragment"`
	// IDTokenSignedResponseAlg is RS256 (default) or ES256.
	IDTokenSignedResponseAlg string `yaml:"id_token_signed_response_alg,omitempty" json:"id_token_signed_response_alg,omitempty" validate:"omitempty,oneof=RS256 ES256"`
	// RequireNonce refuses an openid authorization request without nonce.
	RequireNonce bool `yaml:"require_nonce,omitempty" json:"require_nonce,omitempty"`
	// AccessTokenFormat is opaque (default) or jwt (RFC 9068).
	AccessTokenFormat string `yaml:"access_token_format,omitempty" json:"access_token_format,omitempty" validate:"omitempty,oneof=opaque jwt"`
	// IDTokenUserClaims puts the profile and email claims in the id_token
	// too (they are always in the userinfo answer).
	IDTokenUserClaims bool `yaml:"id_token_user_claims,omitempty" json:"id_token_user_claims,omitempty"`
	// TrustedIssuers names the other dialect instances whose tokens token
	// exchange accepts from this client.
	TrustedIssuers []string `yaml:"trusted_issuers,omitempty" json:"trusted_issuers,omitempty" validate:"unique,dive,instancename"`
	// AssertionIssuers are the iss values the JWT bearer grant accepts
	// besides the client's own id.
	AssertionIssuers []string `yaml:"assertion_issuers,omitempty" json:"assertion_issuers,omitempty" validate:"unique,dive,required"`
}

// User is a configured end user. The admin API uses it as its JSON body.
type User struct {
	UserID    string `yaml:"user_id" json:"user_id" validate:"required,identifier"`
	Username  string `yaml:"username" json:"username" validate:"required,identifier"`
	FirstName string `yaml:"first_name,omitempty" json:"first_name,omitempty"`
	LastName  string `yaml:"last_name,omitempty" json:"last_name,omitempty"`
	Email     string `yaml:"email,omitempty" json:"email,omitempty" validate:"omitempty,email"`
	// Password is plain text here; it is hashed on its way to core. Empty:
	// the user cannot log in on a login page.
	Password       string                   `yaml:"password,omitempty" json:"password,omitempty"`
	LinkedAccounts map[string]LinkedAccount `yaml:"linked_accounts,omitempty" json:"linked_accounts,omitempty" validate:"dive,keys,provider,endkeys"`
}

// LinkedAccount is a user's account at google, microsoft, discord or github.
type LinkedAccount struct {
	ID        string `yaml:"id" json:"id" validate:"required"`
	Username  string `yaml:"username,omitempty" json:"username,omitempty"`
	FirstName string `yaml:"first_name,omitempty" json:"first_name,omitempty"`
	LastName  string `yaml:"last_name,omitempty" json:"last_name,omitempty"`
	Name      string `yaml:"name,omitempty" json:"name,omitempty"`
	Email     string `yaml:"email,omitempty" json:"email,omitempty" validate:"omitempty,email"`
	Locale    string `yaml:"locale,omitempty" json:"locale,omitempty"`
}

// Authorization is a user's grant to a client, proven by AuthToken. The
// admin API uses it as its JSON body.
type Authorization struct {
	AuthID    int64  `yaml:"auth_id" json:"auth_id" validate:"required,gt=0"`
	AuthToken string `yaml:"auth_token,omitempty" json:"auth_token,omitempty" validate:"required"`
	UserID    string `yaml:"user_id" json:"user_id" validate:"required"`
	ClientID  string `yaml:"client_id" json:"client_id" validate:"required"`
}

// ApplyDefaults fills omitted (zero) fields with their defaults. A nil
// Dialects map (no dialects key) enables every type cat knows.
func (c *Config) ApplyDefaults(cat Catalog) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	if c.LogFormat == "" {
		c.LogFormat = DefaultLogFormat
	}
	if c.Storage.Driver == "" {
		c.Storage.Driver = DefaultStorageDriver
	}
	if c.Storage.DSN == "" && c.Storage.Driver == DefaultStorageDriver {
		c.Storage.DSN = DefaultSQLiteDSN
	}
	l := &c.Limits
	setInt(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	setInt(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setInt(&l.MaxParams, DefaultMaxParams)
	setInt(&l.ReadHeaderTimeout, Duration(DefaultReadHeaderTimeout))
	setInt(&l.ReadTimeout, Duration(DefaultReadTimeout))
	setInt(&l.WriteTimeout, Duration(DefaultWriteTimeout))
	setInt(&l.IdleTimeout, Duration(DefaultIdleTimeout))
	setInt(&l.AuthFailures.Burst, DefaultAuthFailureBurst)
	if l.AuthFailures.PerMinute == 0 {
		l.AuthFailures.PerMinute = DefaultAuthFailuresPerMinute
	}
	setInt(&c.JournalSize, DefaultJournalSize)
	setInt(&c.JournalMaxBytes, DefaultJournalMaxBytes)
	setInt(&c.SweepInterval, Duration(DefaultSweepInterval))
	if c.Dialects == nil && cat != nil {
		types := cat.DefaultTypes()
		c.Dialects = make(map[string]DialectConfig, len(types))
		for _, n := range types {
			c.Dialects[n] = DialectConfig{}
		}
	}
}

func setInt[T int | int64 | Duration](p *T, def T) {
	if *p == 0 {
		*p = def
	}
}

// ApplyEnv applies the TOKENGATE_* overrides read through getenv (usually
// os.Getenv); empty variables change nothing. TOKENGATE_DB also picks the
// driver: postgres for a postgres:// or postgresql:// URL, sqlite otherwise.
// Call Validate afterwards.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := strings.TrimSpace(getenv("TOKENGATE_LISTEN")); v != "" {
		c.Listen = v
	}
	if v := strings.TrimSpace(getenv("TOKENGATE_DB")); v != "" {
		c.Storage.DSN = v
		if isPostgresURL(v) {
			c.Storage.Driver = "postgres"
		} else {
			c.Storage.Driver = "sqlite"
		}
	}
	if v := getenv("TOKENGATE_ADMIN_TOKEN"); v != "" {
		c.AdminToken = v
	}
	if v := strings.TrimSpace(getenv("TOKENGATE_LOG_LEVEL")); v != "" {
		c.LogLevel = strings.ToLower(v)
	}
	if v := strings.TrimSpace(getenv("TOKENGATE_LOG_FORMAT")); v != "" {
		c.LogFormat = strings.ToLower(v)
	}
}

// SetDatabase points storage at dsn: a postgres:// or postgresql:// URL
// selects the postgres driver, anything else is an SQLite path.
func (c *Config) SetDatabase(dsn string) {
	c.Storage.DSN = dsn
	c.Storage.Driver = "sqlite"
	if isPostgresURL(dsn) {
		c.Storage.Driver = "postgres"
	}
}

func isPostgresURL(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// UsesDemoCredentials reports whether any well-known demo credential of
// default.yaml is configured: the admin token, a client secret, a user
// password or an auth token.
func (c *Config) UsesDemoCredentials() bool {
	if c.AdminToken == DemoAdminToken || c.Metrics.Token == DemoAdminToken {
		return true
	}
	for _, cl := range c.Clients {
		if cl.ClientSecret == DemoSecret {
			return true
		}
	}
	for _, u := range c.Users {
		if u.Password == DemoPassword {
			return true
		}
	}
	for _, a := range c.Authorizations {
		if a.AuthToken == DemoAuthToken {
			return true
		}
	}
	return false
}

// EnabledDialects lists the names of the enabled instances, sorted.
func (c *Config) EnabledDialects() []string {
	var out []string
	for n, d := range c.Dialects {
		if d.IsEnabled() {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Duration is a time.Duration written as a Go duration string ("90s", "2h")
// in YAML and JSON.
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration string; bare numbers (other than 0) are
// rejected because their unit would be a guess.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a duration must be a string such as 90s, 15m or 2h", n.Line)}}
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalText writes d as a duration string (used by encoding/json).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration string (used by encoding/json).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use Go syntax such as 90s, 15m or 2h", s)
	}
	return Duration(v), nil
}
