package spec

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokengate/tokengate/core"
)

// The examples of the OpenAPI document: each answer rendered by its own
// template from sample values, so an example is exactly what the gateway
// sends (and validates against the schema derived from the same template).

// sampleTime is the examples' clock, so documents do not change between runs.
var sampleTime = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

// The demo client and user of the shipped configs.
var sampleUser = core.User{ID: "demo-user", Username: "johndoe", FirstName: "John", LastName: "Doe",
	Email: "john.doe@example.com"}

const sampleClient = "demo-client"

// sampleRand is a deterministic byte stream (SHA-256 in counter mode) for
// sample tokens and ids, so the same spec always gets the same document.
type sampleRand struct {
	seed  [32]byte
	n     uint64
	block []byte
}

func newSampleRand(label string) *sampleRand { return &sampleRand{seed: sha256.Sum256([]byte(label))} }

func (r *sampleRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.block) == 0 {
			var in [40]byte
			copy(in[:], r.seed[:])
			binary.BigEndian.PutUint64(in[32:], r.n)
			r.n++
			sum := sha256.Sum256(in[:])
			r.block = sum[:]
		}
		p[i], r.block = r.block[0], r.block[1:]
	}
	return len(p), nil
}

func (r *sampleRand) uuid() string {
	u, _ := newUUID(r)
	return u
}

// token mints a sample token of format tf.
func (r *sampleRand) token(tf TokenFormat, v *Values) string {
	switch {
	case tf.Pattern != nil:
		t, _ := tf.Pattern.Mint(r)
		return t
	case tf.JWT != nil:
		c := core.Claims{ID: r.uuid(), ClientID: v.ClientID, UserID: v.UserID, Scopes: v.Scopes,
			IssuedAt: v.IssuedAt, ExpiresAt: v.ExpiresAt}
		cv := claimValues(c, "sample-key")
		sig := make([]byte, 256)
		_, _ = r.Read(sig)
		enc := base64.RawURLEncoding
		return enc.EncodeToString(tf.JWT.Header.AppendJSON(nil, &cv)) + "." +
			enc.EncodeToString(tf.JWT.Claims.AppendJSON(nil, &cv)) + "." + enc.EncodeToString(sig)
	}
	t, _ := core.OpaqueMinter{Rand: r}.Mint(context.Background(), core.Claims{})
	return t
}

// sample is the values this answer is rendered with for its example: what
// the gateway would render, leaving out what the answer never has.
func (a answer) sample() Values {
	s := a.d.s
	r := newSampleRand(s.Name + " " + a.label())
	v := Values{Now: sampleTime, BaseURL: a.d.opts.BaseURL}
	if a.rule != nil {
		status := a.status
		if status == 0 {
			status = a.rule.Status
		}
		ans := &Answer{Status: status, Code: a.rule.Code, rule: a.rule}
		switch {
		case len(a.rule.Params) > 0:
			ans.Param = a.rule.Params[0]
		case a.rule.Params == nil && slices.ContainsFunc(a.rule.Reasons, func(r core.Reason) bool {
			return r == core.ReasonMissing || r == core.ReasonMalformed || r == core.ReasonDuplicate
		}):
			ans.Param = "client_id" // a rule about any parameter
		}
		ans.Text = a.rule.renderText(ans)
		v.answer = ans
		v.ErrorID, v.TraceID, v.CorrelationID = r.uuid(), r.uuid(), r.uuid()
		return v
	}
	if a.inactive {
		return v
	}
	lifetime := s.Tokens.Access.Lifetime
	v.TokenType, v.ExpiresIn, v.IssuedAt, v.ExpiresAt = "Bearer", int64(lifetime/time.Second), sampleTime, sampleTime.Add(lifetime)
	v.Scopes, v.ClientID, v.UserID, v.User, v.Active = s.Tokens.Scope, sampleClient, sampleUser.ID, &sampleUser, true
	v.AccessToken = r.token(s.Tokens.Access, &v)
	if a.rt.Operation == OpToken && s.refreshPresence(a.rt) != never {
		v.RefreshToken = r.token(s.Tokens.Refresh, &v)
	}
	if a.rt.Operation == OpJWKS {
		n := make([]byte, 256)
		_, _ = r.Read(n)
		v.Keys = []byte(`[{"kty":"RSA","alg":"RS256","kid":"` + r.uuid() + `","use":"sig","n":"` +
			base64.RawURLEncoding.EncodeToString(n) + `","e":"AQAB"}]`)
	}
	return v
}

// label names the answer, to seed its sample values.
func (a answer) label() string {
	switch {
	case a.rule != nil:
		return "error " + a.rule.Code
	case a.inactive:
		return "inactive " + a.rt.Path
	}
	return a.rt.Method + " " + a.rt.Path
}

// example is t rendered in format f from the sample values, as a YAML
// value; a form body's example is its fields (those without a value are
// not sent).
func (a answer) example(t *Template, f Format) *yaml.Node {
	v := a.sample()
	if f == FormatText {
		return scalarNode(string(t.AppendText(nil, &v)))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(t.AppendJSON(nil, &v), &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	ex := doc.Content[0]
	plain(ex)
	if f == FormatForm && ex.Kind == yaml.MappingNode {
		kept := ex.Content[:0]
		for i := 0; i+1 < len(ex.Content); i += 2 {
			if !isNull(ex.Content[i+1]) {
				kept = append(kept, ex.Content[i], ex.Content[i+1])
			}
		}
		ex.Content = kept
	}
	return ex
}

// plain drops the JSON text's style and positions, so the example is
// written like the rest of the document.
func plain(n *yaml.Node) {
	n.Style = 0
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		plain(c)
	}
}
