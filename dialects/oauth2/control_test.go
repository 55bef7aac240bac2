package oauth2_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/dialects/control"
)

// The admin API knows the extension grants: a fault rule may target one by
// its short name, the journal records each request's grant type (the device
// authorization endpoint's too) with its secrets redacted, and a client
// created through the API may be public. (A fault on the device
// authorization endpoint itself names its route: that request carries no
// grant_type for the control plane to match.)
func TestAdminKnowsTheNewGrants(t *testing.T) {
	g := startOIDC(t)
	rule, err := g.Admin.AddFault(control.Rule{GrantType: "device_code", Status: http.StatusServiceUnavailable, Count: 1})
	if err != nil || rule.GrantType != urnDevice {
		t.Fatalf("fault by short name: %+v %v", rule, err)
	}
	_, _, da := postForm(t, g, "/oauth2/device_authorization", "", "", url.Values{"client_id": {"demo-public"}})
	device := da["device_code"].(string)
	poll := url.Values{"grant_type": {urnDevice}, "device_code": {device}, "client_id": {"demo-public"}}
	if st, _, body := postForm(t, g, "/oauth2/token", "", "", poll); st != http.StatusServiceUnavailable {
		t.Fatalf("the fault did not fire on the device poll: %d %v", st, body)
	}
	if st, _, body := postForm(t, g, "/oauth2/token", "", "", poll); body["error"] != "authorization_pending" {
		t.Fatalf("the fault fired twice: %d %v", st, body)
	}
	entries, err := g.Admin.Requests(control.Filter{ClientID: "demo-public"})
	if err != nil || len(entries) != 3 {
		t.Fatalf("journal: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if e.GrantType != urnDevice {
			t.Errorf("%s recorded grant %q", e.Route, e.GrantType)
		}
		for _, v := range e.Params["device_code"] {
			if v != control.Redacted {
				t.Errorf("the journal shows a device code: %v", e.Params)
			}
		}
	}
	cl, err := g.Admin.CreateClient(config.Client{ClientID: "spa", TokenEndpointAuthMethod: "none", Grants: []string{"authorization_code"},
		RedirectURIs: []string{callback}})
	if err != nil || cl.TokenEndpointAuthMethod != "none" {
		t.Fatalf("a public client through the admin API: %+v %v", cl, err)
	}
	cl.Scopes = []string{"openid"}
	if _, err := g.Admin.UpdateClient(cl); err != nil {
		t.Fatalf("updating a public client without a secret: %v", err)
	}
}
