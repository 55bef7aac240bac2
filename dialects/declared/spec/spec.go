package spec

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// Spec is one parsed, validated and compiled spec file. It is immutable and
// safe for concurrent use.
type Spec struct {
	Name     string // identifier, e.g. "slack"
	Title    string // product name on the login page; defaults to Name
	BasePath string // unrouted paths at or below it answer in Errors' style; "" for none
	Secrets  []string
	Tokens   Tokens
	Routes   []*Route
	Errors   *Errors
}

// Tokens is how the spec's tokens look and live.
type Tokens struct {
	Access  TokenFormat
	Refresh TokenFormat
	CodeTTL time.Duration
	// RefreshFor lists the grants whose answer carries a refresh token.
	RefreshFor []core.GrantType
	// RotateRefresh: a refresh consumes the refresh token and issues a new
	// one, and a rotated-out one presented again revokes the family; false
	// keeps the refresh token (core.Profile.KeepRefreshToken).
	RotateRefresh bool
	// OneActiveAccessToken refuses a client_credentials token while the
	// client holds an active one (core.Profile.OneActiveAccessToken, atomic
	// across replicas).
	OneActiveAccessToken bool
	// Scope is granted when a request names none.
	Scope []string
	// FixedScope grants Scope whatever a request asks for.
	FixedScope bool
}

// TokenFormat is one kind of token: its lifetime and how it is made.
// With neither Pattern nor JWT the engine's opaque format is used.
type TokenFormat struct {
	Lifetime time.Duration
	Pattern  *Pattern
	JWT      *JWTFormat
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Parse reads a spec file. Every problem is reported at once in a
// *ValidationError, each with its path inside the file and its line.
func Parse(data []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{Problems: []Problem{{Message: "the spec is empty"}}}
		}
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &ValidationError{Problems: []Problem{{Line: extra.Line, Message: "a spec file holds one YAML document"}}}
	}
	r := &reader{}
	s := r.spec(doc.Content[0])
	if err := r.err(); err != nil {
		return nil, err
	}
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(err error) error {
	p := Problem{Message: err.Error()}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = m[2]
	}
	return &ValidationError{Problems: []Problem{p}}
}

func (r *reader) spec(n *yaml.Node) *Spec {
	s := &Spec{}
	f := r.mapping(n, "")
	if f == nil {
		return s
	}
	if v, p := f.required("name"); v != nil {
		if name, ok := r.str(v, p); ok {
			if !nameRE.MatchString(name) {
				r.errorf(v, p, "%q: use lower-case letters, digits, - and _", name)
			}
			s.Name = name
		}
	}
	s.Title = s.Name
	if v, p := f.take("title"); v != nil {
		s.Title, _ = r.str(v, p)
	}
	if v, p := f.take("base_path"); v != nil {
		if bp, ok := r.str(v, p); ok {
			if !strings.HasPrefix(bp, "/") || (len(bp) > 1 && strings.HasSuffix(bp, "/")) {
				r.errorf(v, p, "%q must start with / and not end with one", bp)
			}
			s.BasePath = bp
		}
	}
	if v, p := f.take("secrets"); v != nil {
		s.Secrets, _ = r.strList(v, p)
	}
	tv, tp := f.take("tokens")
	s.Tokens = r.tokens(tv, tp)
	if v, p := f.required("routes"); v != nil {
		s.Routes = r.routes(v, p, s)
	}
	if v, p := f.required("errors"); v != nil {
		s.Errors = r.errors(v, p)
	}
	f.done()
	if s.Errors != nil {
		s.Errors.secrets = s.SecretParams()
	}
	return s
}

// grantNames are the engine grants by name.
var grantNames = []string{string(core.GrantClientCredentials), string(core.GrantAuthorizationCode), string(core.GrantRefreshToken)}

func (r *reader) grant(n *yaml.Node, path string) (core.GrantType, bool) {
	g, ok := r.oneOf(n, path, grantNames...)
	return core.GrantType(g), ok
}

func (r *reader) grantList(n *yaml.Node, path string) []core.GrantType {
	n = resolve(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		var out []core.GrantType
		for i, c := range n.Content {
			if g, ok := r.grant(c, index(path, i)); ok {
				out = append(out, g)
			}
		}
		return out
	}
	if g, ok := r.grant(n, path); ok {
		return []core.GrantType{g}
	}
	return nil
}

func (r *reader) tokens(n *yaml.Node, path string) Tokens {
	t := Tokens{
		Access:        TokenFormat{Lifetime: core.DefaultAccessTTL},
		Refresh:       TokenFormat{Lifetime: core.DefaultRefreshTTL},
		CodeTTL:       core.MaxCodeTTL,
		RotateRefresh: true,
	}
	if n == nil {
		return t
	}
	f := r.mapping(n, path)
	if v, p := f.take("access"); v != nil {
		r.tokenFormat(v, p, &t.Access)
	}
	if v, p := f.take("refresh"); v != nil {
		r.tokenFormat(v, p, &t.Refresh)
	}
	if v, p := f.take("code"); v != nil {
		cf := r.mapping(v, p)
		if lv, lp := cf.take("lifetime"); lv != nil {
			if d, ok := r.duration(lv, lp); ok {
				if d > core.MaxCodeTTL {
					r.errorf(lv, lp, "authorization codes live at most %s (RFC 6749 §4.1.2)", core.MaxCodeTTL)
				}
				t.CodeTTL = d
			}
		}
		cf.done()
	}
	if v, p := f.take("refresh_for"); v != nil {
		t.RefreshFor = r.grantList(v, p)
	}
	if v, p := f.take("rotate_refresh"); v != nil {
		t.RotateRefresh, _ = r.boolean(v, p)
	}
	if v, p := f.take("one_active_access_token"); v != nil {
		t.OneActiveAccessToken, _ = r.boolean(v, p)
	}
	if v, p := f.take("scope"); v != nil {
		t.Scope, _ = r.strList(v, p)
	}
	if v, p := f.take("fixed_scope"); v != nil {
		if t.FixedScope, _ = r.boolean(v, p); t.FixedScope && len(t.Scope) == 0 {
			r.errorf(v, p, "needs tokens.scope: the scope every token gets")
		}
	}
	f.done()
	return t
}

func (r *reader) tokenFormat(n *yaml.Node, path string, tf *TokenFormat) {
	f := r.mapping(n, path)
	if v, p := f.take("lifetime"); v != nil {
		if d, ok := r.duration(v, p); ok {
			tf.Lifetime = d
		}
	}
	jv, jp := f.take("jwt")
	format := "opaque"
	if v, p := f.take("format"); v != nil {
		if s, ok := r.str(v, p); ok {
			format = s
			switch {
			case s == "opaque", s == "jwt":
			case !strings.Contains(s, "{"):
				r.errorf(v, p, "unknown format %q (use opaque, jwt or a pattern such as \"{hex:32}.{hex:16}\")", s)
			default:
				pat, err := ParsePattern(s)
				if err != nil {
					r.errorf(v, p, "%s", err)
				}
				tf.Pattern = pat
			}
		}
	}
	switch {
	case format == "jwt" && jv == nil:
		r.errorf(n, jp, "is required with format: jwt")
	case format == "jwt":
		tf.JWT = r.jwt(jv, jp)
	case jv != nil:
		r.errorf(jv, jp, "is only used with format: jwt")
	}
	f.done()
}

func (r *reader) jwt(n *yaml.Node, path string) *JWTFormat {
	j := &JWTFormat{Algorithm: "RS256"}
	f := r.mapping(n, path)
	if v, p := f.take("algorithm"); v != nil {
		if a, ok := r.oneOf(v, p, "RS256"); ok {
			j.Algorithm = a
		}
	}
	if v, p := f.take("header"); v != nil {
		j.Header = r.compile(v, p, inJWTHeader, "a JWT header")
		r.checkJWTHeader(v, p, j.Algorithm)
	} else {
		var def yaml.Node
		_ = yaml.Unmarshal([]byte(`{alg: `+j.Algorithm+`, typ: JWT, kid: "{kid}"}`), &def)
		j.Header = r.compile(def.Content[0], p, inJWTHeader, "a JWT header")
	}
	if v, p := f.required("claims"); v != nil {
		j.Claims = r.compile(v, p, inClaims, "JWT claims")
		if resolve(v).Kind != yaml.MappingNode {
			r.errorf(v, p, "must be a mapping of claims")
		} else if !j.Claims.usesPlaceholder(phJTI) {
			r.errorf(v, p, `must contain "{jti}" so that every token is unique (128 random bits)`)
		}
	}
	f.done()
	return j
}

// checkJWTHeader requires the alg header to name the algorithm.
func (r *reader) checkJWTHeader(n *yaml.Node, path, alg string) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		r.errorf(n, path, "must be a mapping")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "alg" {
			if v := resolve(n.Content[i+1]); v.Value != alg {
				r.errorf(v, joinKey(path, "alg"), "must be %q, the format's algorithm", alg)
			}
			return
		}
	}
	r.errorf(n, path, "needs alg: %s", alg)
}

// Owns reports whether an unrouted path (relative to the instance prefix)
// belongs to the spec, so that its 404 and 405 answers come in its style.
func (s *Spec) Owns(path string) bool {
	if s.BasePath == "" {
		return false
	}
	return path == s.BasePath || strings.HasPrefix(path, s.BasePath+"/")
}

// NeedsSigningKey reports whether a token format is a JWT.
func (s *Spec) NeedsSigningKey() bool {
	return s.Tokens.Access.JWT != nil || s.Tokens.Refresh.JWT != nil
}

// Profile is how the engine issues this spec's tokens for instance (the
// config name). r is the engine's Rand; ring (the instance's signing keys)
// is needed when NeedsSigningKey.
func (s *Spec) Profile(instance string, r io.Reader, ring *core.KeyRing) (*core.Profile, error) {
	access, err := s.Tokens.Access.minter(r, ring)
	if err != nil {
		return nil, err
	}
	refresh, err := s.Tokens.Refresh.minter(r, ring)
	if err != nil {
		return nil, err
	}
	return &core.Profile{
		Dialect:              instance,
		AccessTTL:            s.Tokens.Access.Lifetime,
		RefreshTTL:           s.Tokens.Refresh.Lifetime,
		CodeTTL:              s.Tokens.CodeTTL,
		RefreshGrants:        append([]core.GrantType(nil), s.Tokens.RefreshFor...),
		KeepRefreshToken:     !s.Tokens.RotateRefresh,
		OneActiveAccessToken: s.Tokens.OneActiveAccessToken,
		FixedScopes:          s.Tokens.FixedScope,
		AccessMinter:         access,
		RefreshMinter:        refresh,
		DefaultScopes:        append([]string(nil), s.Tokens.Scope...),
	}, nil
}

func (tf TokenFormat) minter(r io.Reader, ring *core.KeyRing) (core.Minter, error) {
	switch {
	case tf.Pattern != nil:
		return tf.Pattern.Minter(r), nil
	case tf.JWT != nil:
		if ring == nil {
			return nil, errors.New("the spec's JWT format needs a key ring")
		}
		return tf.JWT.Minter(ring), nil
	}
	return nil, nil // the engine's opaque default
}

// SecretParams lists the parameter names whose values are secrets: the
// wire names of every client_secret, code, code_verifier, refresh_token and
// token input, plus the spec's own secrets list. The journal redacts them
// and error answers never echo them.
func (s *Spec) SecretParams() []string {
	out := append([]string(nil), s.Secrets...)
	for _, rt := range s.Routes {
		for _, in := range rt.Inputs {
			if !secretInputs[in.Name] {
				continue
			}
			for _, src := range in.Sources {
				if (src.Kind == SourceForm || src.Kind == SourceQuery || src.Kind == SourceJSON) && !contains(out, src.Name) {
					out = append(out, src.Name)
				}
			}
		}
	}
	return out
}

// SecretHeaders lists headers that carry secret inputs (Authorization is
// always treated as secret by the control plane).
func (s *Spec) SecretHeaders() []string { return s.inputWireNames(SourceHeader, secretInputs) }

// ClientIDParams lists where the client id is sent (parameter or JSON key
// names), for the journal and fault matching.
func (s *Spec) ClientIDParams() []string {
	return s.inputWireNames(SourceForm|SourceQuery|SourceJSON, map[string]bool{InputClientID: true})
}

// ClientIDHeaders lists headers that carry the client id.
func (s *Spec) ClientIDHeaders() []string {
	return s.inputWireNames(SourceHeader, map[string]bool{InputClientID: true})
}

// ClientIDBasic reports whether a route reads the client id from HTTP Basic.
func (s *Spec) ClientIDBasic() bool {
	return len(s.inputWireNames(SourceBasicID, map[string]bool{InputClientID: true})) > 0
}

// GrantParams lists where the grant type is sent.
func (s *Spec) GrantParams() []string {
	return s.inputWireNames(SourceForm|SourceQuery|SourceJSON, map[string]bool{InputGrantType: true})
}

func (s *Spec) inputWireNames(kinds SourceKind, inputs map[string]bool) []string {
	var out []string
	for _, rt := range s.Routes {
		for _, in := range rt.Inputs {
			if !inputs[in.Name] {
				continue
			}
			for _, src := range in.Sources {
				if src.Kind&kinds != 0 && !contains(out, src.Name) {
					out = append(out, src.Name)
				}
			}
		}
	}
	return out
}
