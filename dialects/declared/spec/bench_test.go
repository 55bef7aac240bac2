package spec

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tokengate/tokengate/core"
)

// BenchmarkRenderTokenErrorID renders the errorId token answer, the
// declared_token bench scenario's body, from a compiled template.
func BenchmarkRenderTokenErrorID(b *testing.B) {
	s := loadSpec(b, "../testdata/errorid.yaml")
	resp := route(b, s, OpToken).Response
	now := time.Now()
	v := ResultValues(&core.TokenResult{AccessToken: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6", TokenType: "Bearer",
		ExpiresIn: 3600, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	var out Output
	b.ReportAllocs()
	for b.Loop() {
		resp.Render(&out, "", &v)
	}
}

// BenchmarkEncodingJSONErrorID is the Go dialect's way (encoding/json on a
// struct), for comparison.
func BenchmarkEncodingJSONErrorID(b *testing.B) {
	type tokenResponse struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	body := tokenResponse{AccessToken: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6", TokenType: "Bearer", ExpiresIn: 3600}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderHurdlrError renders an error answer (rule match, text,
// envelope).
func BenchmarkRenderHurdlrError(b *testing.B) {
	s := loadSpec(b, "../testdata/hurdlr.yaml")
	err := &core.Error{Kind: core.KindInvalidGrant, Description: "unknown refresh token"}
	var out Output
	b.ReportAllocs()
	for b.Loop() {
		a := s.Errors.Describe(err, core.GrantRefreshToken)
		v := Values{}
		s.Errors.Render(&out, "", &a, &v)
	}
}

func BenchmarkParseHurdlr(b *testing.B) {
	for b.Loop() {
		loadSpec(b, "../testdata/hurdlr.yaml")
	}
}
