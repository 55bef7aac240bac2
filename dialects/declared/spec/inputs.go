package spec

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/tokengate/tokengate/core"
)

// Request is a decoded request as the route's inputs see it. The caller
// decodes the body strictly (content type, size, duplicate JSON keys) and
// parses HTTP Basic credentials; Extract does the rest.
type Request struct {
	Form   url.Values                 // the form body, for a form route
	JSON   map[string]json.RawMessage // the JSON body, for a json route
	Query  url.Values
	Header http.Header
	Basic  *BasicCredentials // nil: no Basic header
}

// BasicCredentials are the decoded parts of an Authorization: Basic header.
type BasicCredentials struct{ ID, Secret string }

// Inputs are the engine inputs read from one request. On an error they hold
// what was read before it (the client id, for the journal).
type Inputs struct {
	Grant        core.GrantType
	GrantValue   string // as sent
	ClientID     string
	ClientSecret string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	UserID       string
	Token        string
	Scopes       []string // nil when not sent
}

func (in *Inputs) field(name string) *string {
	switch name {
	case InputClientID:
		return &in.ClientID
	case InputClientSecret:
		return &in.ClientSecret
	case InputGrantType:
		return &in.GrantValue
	case InputCode:
		return &in.Code
	case InputRedirectURI:
		return &in.RedirectURI
	case InputCodeVerifier:
		return &in.CodeVerifier
	case InputRefreshToken:
		return &in.RefreshToken
	case InputUserID:
		return &in.UserID
	case InputToken:
		return &in.Token
	}
	return nil
}

// TokenRequest is the engine request; inputs that do not belong to the
// grant (a user id on a refresh, a code on client_credentials) are dropped.
func (in *Inputs) TokenRequest() core.TokenRequest {
	req := core.TokenRequest{GrantType: in.Grant, ClientID: in.ClientID, ClientSecret: in.ClientSecret, Scopes: in.Scopes}
	switch in.Grant {
	case core.GrantClientCredentials:
		req.UserID = in.UserID
	case core.GrantAuthorizationCode:
		req.Code, req.RedirectURI, req.CodeVerifier = in.Code, in.RedirectURI, in.CodeVerifier
	case core.GrantRefreshToken:
		req.RefreshToken = in.RefreshToken
	}
	return req
}

// Extract reads the route's inputs from req into in: repeated parameters
// first (unless allowed), then the grant, then each input in the declared
// order. Errors are *core.Error values naming the wire parameter.
func (rt *Route) Extract(req *Request, in *Inputs) error {
	*in = Inputs{}
	if !rt.AllowDuplicates {
		if rt.Body == BodyForm {
			if err := firstDuplicate(req.Form); err != nil {
				return err
			}
		}
		if rt.readsQuery() {
			if err := firstDuplicate(req.Query); err != nil {
				return err
			}
		}
	}
	if g := rt.Grant; g != nil {
		if err := rt.extractGrant(req, in); err != nil {
			return err
		}
	}
	for _, input := range rt.Inputs {
		if input.Name == InputGrantType {
			continue // read with the grant
		}
		v, err := rt.read(req, input, in.Grant)
		if err != nil {
			return err
		}
		if input.Name == InputScope {
			if v != "" {
				in.Scopes = strings.Fields(v)
			}
			continue
		}
		*in.field(input.Name) = v
	}
	return nil
}

func (rt *Route) extractGrant(req *Request, in *Inputs) error {
	g := rt.Grant
	if g.Fixed != "" {
		in.Grant = g.Fixed
		if input := rt.input(InputGrantType); input != nil {
			v, err := rt.read(req, input, g.Fixed)
			in.GrantValue = v
			return err
		}
		return nil
	}
	input := rt.input(InputGrantType)
	v, err := rt.read(req, input, "")
	if err != nil {
		return err
	}
	in.GrantValue = v
	switch gt, ok := g.Values[v]; {
	case v == "" && g.Default != "":
		in.Grant = g.Default
	case v == "":
		return core.MissingParam(input.Sources[0].Name)
	case !ok:
		return &core.Error{Kind: core.KindUnsupportedGrantType, Param: input.Sources[0].Name, Value: v,
			Description: "unsupported grant_type"}
	default:
		in.Grant = gt
	}
	return nil
}

func (rt *Route) readsQuery() bool {
	for _, in := range rt.Inputs {
		for _, s := range in.Sources {
			if s.Kind == SourceQuery {
				return true
			}
		}
	}
	return false
}

// firstDuplicate reports the first (in sorted order, so answers are
// deterministic) parameter sent more than once.
func firstDuplicate(v url.Values) error {
	var dups []string
	for name, vals := range v {
		if len(vals) > 1 {
			dups = append(dups, name)
		}
	}
	if len(dups) == 0 {
		return nil
	}
	sort.Strings(dups)
	return core.DuplicateParam(dups[0])
}

// read returns one input's value ("" when absent). Sending it in two of its
// sources is a duplicate, except the same client credentials in Basic and
// the body; a JSON null is absent, and named in the missing error.
func (rt *Route) read(req *Request, input *Input, grant core.GrantType) (string, error) {
	var first *Source
	for i := range input.Sources {
		s := &input.Sources[i]
		if !s.present(req) {
			continue
		}
		if first == nil {
			first = s
			continue
		}
		if first.Kind&(SourceBasicID|SourceBasicSecret) != 0 || s.Kind&(SourceBasicID|SourceBasicSecret) != 0 {
			a, _, errA := first.value(req, rt.AllowDuplicates)
			b, _, errB := s.value(req, rt.AllowDuplicates)
			if errA == nil && errB == nil && a == b {
				continue
			}
			return "", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate,
				Description: "use one client authentication method, not several"}
		}
		if first.Name == s.Name {
			return "", core.DuplicateParam(first.Name)
		}
		return "", &core.Error{Kind: core.KindInvalidRequest, Reason: core.ReasonDuplicate, Param: first.Name,
			Description: first.Name + " and " + s.Name + " are the same property; send only one"}
	}
	missing := ""
	if len(input.Sources) > 0 {
		missing = input.Sources[0].Name
	}
	v := ""
	if first != nil {
		var isNull bool
		var err error
		if v, isNull, err = first.value(req, rt.AllowDuplicates); err != nil {
			return "", err
		}
		if isNull {
			missing = first.Name
		}
		if v == "" && !isNull && rt.EmptyInvalid {
			return "", core.InvalidParam(first.Name, "", first.Name+" must not be empty")
		}
	}
	if v == "" && (input.Required || contains(input.RequiredFor, grant)) {
		if input.Sources[0].Kind == SourceBearer {
			return "", &core.Error{Kind: core.KindInvalidToken, Reason: core.ReasonMissing, Param: "Authorization",
				Description: "missing bearer token"}
		}
		return "", core.MissingParam(missing)
	}
	return v, nil
}

// present reports whether the request carries the source at all.
func (s *Source) present(req *Request) bool {
	switch s.Kind {
	case SourceForm:
		return len(req.Form[s.Name]) > 0
	case SourceQuery:
		return len(req.Query[s.Name]) > 0
	case SourceHeader:
		return len(req.Header.Values(s.Name)) > 0
	case SourceBearer:
		_, ok := bearer(req.Header)
		return ok
	case SourceBasicID, SourceBasicSecret:
		return req.Basic != nil
	}
	_, ok := s.lookupJSON(req.JSON)
	return ok
}

// value reads a present source; isNull is a JSON null.
func (s *Source) value(req *Request, allowDuplicates bool) (v string, isNull bool, err error) {
	single := func(vals []string) (string, bool, error) {
		if len(vals) > 1 && !allowDuplicates {
			return "", false, core.DuplicateParam(s.Name)
		}
		return vals[0], false, nil
	}
	switch s.Kind {
	case SourceForm:
		return single(req.Form[s.Name])
	case SourceQuery:
		return single(req.Query[s.Name])
	case SourceHeader:
		return single(req.Header.Values(s.Name))
	case SourceBearer:
		t, _ := bearer(req.Header)
		return t, false, nil
	case SourceBasicID:
		return req.Basic.ID, false, nil
	case SourceBasicSecret:
		return req.Basic.Secret, false, nil
	}
	raw, _ := s.lookupJSON(req.JSON)
	if string(raw) == "null" {
		return "", true, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, core.InvalidParam(s.Name, clip(string(raw), 64), s.Name+" must be a string")
	}
	return v, false, nil
}

// lookupJSON follows a dotted path through nested objects.
func (s *Source) lookupJSON(obj map[string]json.RawMessage) (json.RawMessage, bool) {
	for i, key := range s.Path {
		raw, ok := obj[key]
		if !ok {
			return nil, false
		}
		if i == len(s.Path)-1 {
			return raw, true
		}
		obj = nil
		if json.Unmarshal(raw, &obj) != nil {
			return nil, false
		}
	}
	return nil, false
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(h http.Header) (string, bool) {
	scheme, token, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
