package declared

import (
	"errors"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/declared/spec"
	"github.com/tokengate/tokengate/dialects/wire"
)

// handler serves one route of a spec.
type handler struct {
	d  *Dialect
	rt *spec.Route
	// What the route needs, decided at mount.
	readsQuery, readsBasic bool
	authenticates          bool // the route checks the calling client's credentials
	usesUser               bool // the response renders user fields
}

var outputs = sync.Pool{New: func() any { return &spec.Output{Body: make([]byte, 0, 512)} }}

func getOutput() *spec.Output  { return outputs.Get().(*spec.Output) }
func putOutput(o *spec.Output) { outputs.Put(o) }

// inputs decodes the request as the route declares and extracts its
// inputs; the client id and grant presented are noted even on failure.
// alt is the raw reading of HTTP Basic credentials where it differs from
// the form-decoded one the inputs hold (see wire.Basic), else nil.
func (h *handler) inputs(c echo.Context, in *spec.Inputs) (alt *core.Credentials, err error) {
	var req spec.Request
	switch h.rt.Body {
	case spec.BodyForm:
		if h.rt.AnyContentType {
			req.Form, err = wire.BodyParams(c)
		} else {
			req.Form, err = wire.Form(c)
		}
	case spec.BodyJSON:
		if h.rt.AnyContentType {
			var body []byte
			if body, err = wire.ReadBody(c); err == nil {
				req.JSON, err = wire.ParseJSONObject(body)
			}
		} else {
			req.JSON, err = wire.JSONObject(c)
		}
	}
	if err != nil {
		return nil, err
	}
	if h.readsQuery {
		if req.Query, err = wire.Query(c); err != nil {
			return nil, err
		}
	}
	req.Header = c.Request().Header
	if h.readsBasic {
		auth, ok, err := wire.Basic(c)
		if err != nil {
			return nil, err
		}
		if ok {
			req.Basic = &spec.BasicCredentials{ID: auth.ID, Secret: auth.Secret}
			alt = auth.Alt
		}
	}
	err = h.rt.Extract(&req, in)
	if alt != nil && (in.ClientID != req.Basic.ID || in.ClientSecret != req.Basic.Secret) {
		alt = nil // the credentials came from the body
	}
	grant := in.GrantValue
	if grant == "" {
		grant = string(in.Grant)
	}
	wire.NoteClient(c, in.ClientID, grant)
	if in.Grant != "" {
		c.Set(grantKey, in.Grant)
	}
	return alt, err
}

// render writes the route's answer for v.
func (h *handler) render(c echo.Context, resp *spec.Response, v *spec.Values) error {
	out := getOutput()
	defer putOutput(out)
	resp.Render(out, c.Request().Header.Get(echo.HeaderAccept), v)
	return write(c, out)
}

// user loads the user an answer names, when its body shows user fields.
func (h *handler) user(c echo.Context, v *spec.Values) error {
	if !h.usesUser || v.UserID == "" {
		return nil
	}
	u, err := h.d.engine.User(c.Request().Context(), v.UserID)
	switch {
	case err == nil:
		v.User = u
	case !errors.Is(err, core.ErrNotFound): // a deleted user renders null fields
		return core.Unavailable(err)
	}
	return nil
}

func (h *handler) token(c echo.Context) error {
	var in spec.Inputs
	alt, err := h.inputs(c, &in)
	if err != nil {
		return err
	}
	req := in.TokenRequest()
	req.ClientAlt = alt
	res, err := h.d.engine.Token(c.Request().Context(), h.d.profile, req)
	if err != nil {
		return wireParam(h.rt, err)
	}
	v := spec.ResultValues(res)
	v.BaseURL = h.d.baseURL(c)
	if err := h.user(c, &v); err != nil {
		return err
	}
	return h.render(c, h.rt.Response, &v)
}

// client authenticates the calling client of an introspect or revoke route.
func (h *handler) client(c echo.Context, in *spec.Inputs, alt *core.Credentials) (*core.Client, error) {
	if !h.authenticates {
		return nil, nil
	}
	readings := []core.Credentials{{ID: in.ClientID, Secret: in.ClientSecret}}
	if alt != nil {
		readings = append(readings, *alt)
	}
	cl, _, err := h.d.engine.AuthenticateClientAny(c.Request().Context(), h.d.profile, readings...)
	if err == nil {
		wire.NoteClient(c, cl.ID, "")
	}
	return cl, wireParam(h.rt, err)
}

func (h *handler) introspect(c echo.Context) error {
	var in spec.Inputs
	alt, err := h.inputs(c, &in)
	if err != nil {
		return err
	}
	if _, err := h.client(c, &in, alt); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, active, err := h.d.engine.Introspect(ctx, h.d.profile, in.Token)
	if err != nil {
		return err
	}
	if !active {
		if h.rt.Inactive == nil {
			return &core.Error{Kind: core.KindInvalidToken, Description: "the token is not active"}
		}
		v := h.d.values(c)
		return h.render(c, h.rt.Inactive, &v)
	}
	return h.renderToken(c, t)
}

// renderToken answers with the values of an active stored token.
func (h *handler) renderToken(c echo.Context, t *core.Token) error {
	v := spec.TokenValues(t, true, h.d.engine.Now())
	v.BaseURL = h.d.baseURL(c)
	if err := h.user(c, &v); err != nil {
		return err
	}
	return h.render(c, h.rt.Response, &v)
}

func (h *handler) userinfo(c echo.Context) error {
	var in spec.Inputs
	if _, err := h.inputs(c, &in); err != nil {
		return err
	}
	t, err := h.d.engine.Validate(c.Request().Context(), h.d.profile, in.Token)
	if err != nil {
		return err
	}
	return h.renderToken(c, t)
}

func (h *handler) revoke(c echo.Context) error {
	var in spec.Inputs
	alt, err := h.inputs(c, &in)
	if err != nil {
		return err
	}
	cl, err := h.client(c, &in, alt)
	if err != nil {
		return err
	}
	if err := h.d.engine.Revoke(c.Request().Context(), h.d.profile, cl, in.Token); err != nil {
		return err
	}
	v := h.d.values(c)
	return h.render(c, h.rt.Response, &v)
}

func (h *handler) jwks(c echo.Context) error {
	keys, err := h.d.ring.JWKS(c.Request().Context())
	if err != nil {
		return core.Unavailable(err)
	}
	v := h.d.values(c)
	if v.Keys, err = keysJSON(keys); err != nil {
		return core.Internal(err)
	}
	return h.render(c, h.rt.Response, &v)
}

func (h *handler) static(c echo.Context) error {
	v := h.d.values(c)
	return h.render(c, h.rt.Response, &v)
}
