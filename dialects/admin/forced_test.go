package admin_test

import (
	"testing"
	"time"

	"github.com/tokengate/tokengate/cmd/tokengate/tokengatetest"
	"github.com/tokengate/tokengate/dialects/control"
)

// TestForcedAnswerInEveryEnvelope: the same fault rule answers with exactly
// its status, and its code and text, in each dialect's own envelope; 429
// and 503 answers carry Retry-After (the rule's, or one second).
func TestForcedAnswerInEveryEnvelope(t *testing.T) {
	g := tokengatetest.Start(t, tokengatetest.Options{})
	s := &session{t: t, g: g}
	// where reads the code and the text from a dialect's error body.
	where := map[string]func(b map[string]any) (code, text any){
		"oauth2":       func(b map[string]any) (any, any) { return b["error"], b["error_description"] },
		"hurdlr":       func(b map[string]any) (any, any) { return b["error"], b["error_description"] },
		"errorid":      func(b map[string]any) (any, any) { return b["code"], b["text"] },
		"acceleration": func(b map[string]any) (any, any) { return b["error"], b["errorMessage"] },
		"accounda":     func(b map[string]any) (any, any) { return b["error"], nil }, // one field: the code if given, else the text
	}
	cases := []struct {
		rule            control.Rule
		code, text      any
		accounda, retry string
	}{
		{control.Rule{Status: 400, Code: "invalid_grant", Text: "made up"}, "invalid_grant", "made up", "invalid_grant", ""},
		{control.Rule{Status: 418, Code: "teapot"}, "teapot", "injected fault: I'm a teapot", "teapot", ""},
		{control.Rule{Status: 503, Text: "down for a bit"}, nil, "down for a bit", "down for a bit", "1"},
		{control.Rule{Status: 429, Code: "slow_down", RetryAfter: control.Seconds(2500 * time.Millisecond)}, "slow_down", nil, "slow_down", "3"},
	}
	for dialect, send := range s.tokenRequests() {
		for _, tc := range cases {
			rule := tc.rule
			rule.Dialect, rule.ClientID, rule.Count = dialect, "demo-client", 1
			added, err := g.Admin.AddFault(rule)
			if err != nil {
				t.Fatal(err)
			}
			status, header, body := send()
			code, text := where[dialect](body)
			wantCode, wantText := tc.code, tc.text
			if dialect == "accounda" {
				wantCode, wantText = tc.accounda, nil
			}
			switch {
			case status != rule.Status || !inStyle(dialect, status, body):
				t.Errorf("%s %+v: answered %d %v", dialect, rule, status, body)
			case wantCode != nil && code != wantCode, wantText != nil && text != wantText:
				t.Errorf("%s %+v: code %v text %v, want %v %v", dialect, rule, code, text, wantCode, wantText)
			case header.Get("Retry-After") != tc.retry:
				t.Errorf("%s %+v: Retry-After %q, want %q", dialect, rule, header.Get("Retry-After"), tc.retry)
			}
			entries, err := g.Admin.Requests(control.Filter{Dialect: dialect, Limit: 1})
			if err != nil || len(entries) != 1 || entries[0].Fault != added.ID || (tc.rule.Code != "" && entries[0].Error != tc.rule.Code) {
				t.Errorf("%s %+v: journal %+v %v", dialect, rule, entries, err)
			}
		}
	}
}
