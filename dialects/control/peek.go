package control

import (
	"cmp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/wire"
)

// presented finds the client id and grant type a request carries, where its
// dialect declared them to be (wire.Facts), without decoding it as the
// dialect will: the journal and the fault matcher see a request even when
// its dialect refuses it.
func presented(c echo.Context) (clientID, grant string) {
	facts := factsOf(c)
	params := wire.Params(c)
	clientID = first(params, facts.ClientIDParams)
	if clientID == "" && facts.ClientIDBasic {
		if id, _, ok, _ := wire.BasicAuth(c); ok {
			clientID = id
		}
	}
	if clientID == "" && facts.ClientIDHeader != "" {
		clientID = strings.TrimSpace(c.Request().Header.Get(facts.ClientIDHeader))
	}
	return clientID, first(params, facts.GrantParams)
}

// notePresented fills in the client id and grant the dialect has not noted
// (yet) from what the request presented.
func notePresented(c echo.Context) {
	if r := wire.RequestOf(c); r.ClientID == "" || r.Grant == "" {
		id, grant := presented(c)
		wire.NoteClient(c, cmp.Or(r.ClientID, id), cmp.Or(r.Grant, grant))
	}
}

func factsOf(c echo.Context) *wire.Facts {
	if f := wire.RequestOf(c).Facts; f != nil {
		return f
	}
	return &wire.StandardFacts
}

func first(v map[string][]string, names []string) string {
	for _, n := range names {
		if vals := v[n]; len(vals) > 0 && vals[0] != "" {
			return vals[0]
		}
	}
	return ""
}
