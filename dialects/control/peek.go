package control

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/wire"
)

// Peek is what the control plane can see of a request before its dialect
// decodes it: parameters from the query and a form or JSON body, and the
// client id and grant type wherever the dialect's wire format puts them.
type Peek struct {
	Params   url.Values
	ClientID string
	Grant    string
}

const keyPeek = "tg.peek"

// maxPeek bounds how much body the control plane reads ahead; larger bodies
// are left to the dialect (which answers 413 if they exceed the limit).
const maxPeek = 64 << 10

// PeekRequest reads (once per request) the parameters without consuming the
// body: what was read is put back in front of the rest.
func PeekRequest(c echo.Context) *Peek {
	if p, ok := c.Get(keyPeek).(*Peek); ok {
		return p
	}
	req := c.Request()
	p := &Peek{Params: url.Values{}}
	for k, v := range req.URL.Query() {
		p.Params[k] = append(p.Params[k], v...)
	}
	if req.Body != nil && req.ContentLength != 0 && req.ContentLength <= maxPeek {
		head, _ := io.ReadAll(io.LimitReader(req.Body, maxPeek))
		req.Body = readCloser{io.MultiReader(bytes.NewReader(head), req.Body), req.Body}
		switch wire.MediaType(c) {
		case echo.MIMEApplicationForm:
			if v, err := url.ParseQuery(string(head)); err == nil {
				for k, vals := range v {
					p.Params[k] = append(p.Params[k], vals...)
				}
			}
		case echo.MIMEApplicationJSON:
			var obj map[string]any
			if json.Unmarshal(head, &obj) == nil {
				for k, v := range obj {
					if s, ok := v.(string); ok {
						p.Params[k] = append(p.Params[k], s)
					}
				}
			}
		}
	}
	p.ClientID = first(p.Params, "client_id", "clientId")
	if id, _, ok, _ := wire.BasicAuth(c); ok && p.ClientID == "" {
		p.ClientID = id
	}
	if p.ClientID == "" {
		p.ClientID = strings.TrimSpace(req.Header.Get("Client-ID"))
	}
	p.Grant = first(p.Params, "grant_type", "grantType")
	c.Set(keyPeek, p)
	return p
}

func first(v url.Values, names ...string) string {
	for _, n := range names {
		if s := v.Get(n); s != "" {
			return s
		}
	}
	return ""
}

type readCloser struct {
	io.Reader
	io.Closer
}
