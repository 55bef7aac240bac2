package loginpage

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/wire"
)

// The device verification page (RFC 8628 §3.3): the user enters the code
// the device shows (or arrives with it in verification_uri_complete),
// signs in — or is signed in already by a login session — and allows or
// denies. The device's next poll gets the answer.

// deviceBound is what a verification form's CSRF token is bound to: the
// page itself (the user may type the code after it is shown).
const deviceBound = "device verification"

// ShowDevice answers GET of the verification page.
func (p *Page) ShowDevice(c echo.Context) error {
	q, err := wire.Query(c)
	if err != nil {
		return p.errorPage(c, err)
	}
	code, err := wire.Single(q, "user_code")
	if err != nil {
		return p.errorPage(c, err)
	}
	msg := ""
	if code != "" {
		if _, _, err := p.lookupDevice(c, code); err != nil {
			msg = core.AsError(err).Description
		}
	}
	return p.deviceForm(c, code, msg)
}

// SubmitDevice answers the verification form's POST.
func (p *Page) SubmitDevice(c echo.Context) error {
	form, err := wire.Form(c)
	if err != nil {
		return p.errorPage(c, err)
	}
	f, err := wire.Singles(form, "user_code", "username", "password", "decision")
	if err != nil {
		return p.errorPage(c, err)
	}
	if ok, err := p.csrfOK(c, form, deviceBound); err != nil {
		return err
	} else if !ok {
		return p.errorPage(c, &core.Error{Kind: core.KindAccessDenied, Param: csrfField,
			Description: "the form has expired, was sent already or was not sent from this page; start again"})
	}
	code := f["user_code"]
	if _, _, err := p.lookupDevice(c, code); err != nil {
		if core.KindOf(err) == core.KindInvalidRequest {
			return p.deviceForm(c, code, core.AsError(err).Description)
		}
		return err
	}
	ctx := c.Request().Context()
	approve := f["decision"] != "deny"
	var user *core.User
	authTime := p.Engine.Now()
	if approve {
		if user, authTime = p.sessionUser(c); user == nil {
			if user, err = p.Engine.Login(ctx, f["username"], f["password"]); err != nil {
				if core.KindOf(err) == core.KindAccessDenied {
					return p.deviceForm(c, code, "Wrong username or password.")
				}
				return err
			}
			authTime = p.Engine.Now()
			p.startSession(c, user)
		}
	}
	if err := p.Engine.DecideDevice(ctx, p.Profile, code, user, authTime, approve); err != nil {
		if core.KindOf(err) == core.KindInvalidRequest {
			return p.deviceForm(c, code, core.AsError(err).Description)
		}
		return err
	}
	done := "Access denied. The device will be told."
	if approve {
		done = "Done: your device is connected. You may close this window."
	}
	return render(c, http.StatusOK, "device_done", view{Brand: p.Brand, Done: done})
}

// lookupDevice finds the pending device authorization of code and notes
// its client for the journal.
func (p *Page) lookupDevice(c echo.Context, code string) (*core.DeviceRequest, *core.Token, error) {
	dr, t, err := p.Engine.LookupUserCode(c.Request().Context(), p.Profile, code)
	if err == nil {
		wire.NoteClient(c, dr.ClientID, string(core.GrantDeviceCode))
	}
	return dr, t, err
}

// sessionUser is the user of a login session, when the page keeps them.
func (p *Page) sessionUser(c echo.Context) (*core.User, time.Time) {
	if p.Sessions == nil {
		return nil, time.Time{}
	}
	return p.currentSession(c)
}

func (p *Page) deviceForm(c echo.Context, code, msg string) error {
	csrf, err := p.newCSRF(c, p.DeviceAction, deviceBound)
	if err != nil {
		return err
	}
	v := view{Brand: p.Brand, Action: p.DeviceAction, CSRF: csrf, UserCode: code, Error: msg}
	if dr, _, err := p.Engine.LookupUserCode(c.Request().Context(), p.Profile, code); err == nil {
		v.ClientID, v.Scopes = dr.ClientID, strings.Join(dr.Scopes, " ")
	}
	if user, _ := p.sessionUser(c); user != nil {
		v.SignedIn = user.Username
	}
	return render(c, http.StatusOK, "device", v)
}

var _ = template.Must(pages.New("device").Parse(`{{template "head" .}}
<h1>Connect a device</h1>
{{if .ClientID}}<p><strong>{{.ClientID}}</strong> asks for access to your {{.Brand.Product}} account{{if .Scopes}} ({{.Scopes}}){{end}}.</p>{{else}}<p>Enter the code your device shows.</p>{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label for="user_code">Code</label><input type="text" id="user_code" name="user_code" value="{{.UserCode}}" autocomplete="off" required>
{{if .SignedIn}}<p>Signed in as <strong>{{.SignedIn}}</strong>.</p>
{{else}}<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
{{end}}<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="deny" formnovalidate>Deny</button>
</form></main></body></html>`))

var _ = template.Must(pages.New("device_done").Parse(`{{template "head" .}}
<h1>Connect a device</h1><p role="status">{{.Done}}</p></main></body></html>`))
