package console

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
)

// Token and family states as the pages show them.
const (
	stateActive   = "active"
	stateExpired  = "expired"
	stateConsumed = "consumed"
	stateRevoked  = "revoked"
	stateReuse    = "reuse-detected"
)

// tokenView is a token with its state at the gateway's now.
type tokenView struct {
	Token
	State string
}

func tokenState(t *Token, now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return stateRevoked
	case !t.Consumed.IsZero():
		return stateConsumed
	case !now.Before(t.Expires):
		return stateExpired
	}
	return stateActive
}

// familyView is one grant chain: the tokens that share a family id.
type familyView struct {
	ID, ClientID, UserID, Dialect string
	Tokens                        []tokenView // oldest first
	Started, Last                 time.Time
	State                         string
	// ReuseAt is when reuse detection revoked the family; Replayed the
	// consumed token that came back, as the engine recorded it.
	ReuseAt  time.Time
	Replayed string
}

// groupFamilies sorts tokens into families, most recently active first.
func groupFamilies(tokens []Token, now time.Time) []*familyView {
	byID := map[string]*familyView{}
	var out []*familyView
	for _, t := range tokens {
		if t.FamilyID == "" {
			continue
		}
		f := byID[t.FamilyID]
		if f == nil {
			f = &familyView{ID: t.FamilyID, ClientID: t.ClientID, UserID: t.UserID, Dialect: t.Dialect}
			byID[t.FamilyID] = f
			out = append(out, f)
		}
		f.Tokens = append(f.Tokens, tokenView{Token: t, State: tokenState(&t, now)})
	}
	for _, f := range out {
		f.settle()
	}
	slices.SortStableFunc(out, func(a, b *familyView) int { return b.Last.Compare(a.Last) })
	return out
}

// kindOrder draws a code before the tokens it yields, access before refresh.
var kindOrder = map[string]int{"code": 0, "access": 1, "refresh": 2}

// settle orders the tokens and derives the family's times and state.
func (f *familyView) settle() {
	slices.SortStableFunc(f.Tokens, func(a, b tokenView) int {
		return cmp.Or(a.Issued.Compare(b.Issued), cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]))
	})
	var active, revoked bool
	for _, t := range f.Tokens {
		if f.Started.IsZero() || t.Issued.Before(f.Started) {
			f.Started = t.Issued
		}
		for _, at := range []time.Time{t.Issued, t.Consumed, t.Revoked} {
			if at.After(f.Last) {
				f.Last = at
			}
		}
		if t.RevokedByReuse && (f.ReuseAt.IsZero() || t.Revoked.Before(f.ReuseAt)) {
			f.ReuseAt, f.Replayed = t.Revoked, t.Replayed
		}
		active = active || t.State == stateActive
		revoked = revoked || t.State == stateRevoked
	}
	switch {
	case !f.ReuseAt.IsZero():
		f.State = stateReuse
	case active:
		f.State = stateActive
	case revoked:
		f.State = stateRevoked
	default:
		f.State = stateExpired
	}
}

// familyLimit bounds the tokens read for the families list.
const familyLimit = 2000

type familiesPage struct {
	Client   string
	Clients  []string
	Families []*familyView
	Capped   bool
	Now      time.Time
}

func (c *Console) families(ec echo.Context) error {
	ctx := ec.Request().Context()
	p := familiesPage{Client: ec.QueryParam("client")}
	var err error
	if p.Clients, err = c.clientIDs(ctx); err != nil {
		return err
	}
	clock, err := c.b.Clock(ctx)
	if err != nil {
		return err
	}
	p.Now = clock.Now
	tokens, err := c.b.Tokens(ctx, TokenQuery{ClientID: p.Client, Limit: familyLimit})
	if err != nil {
		return err
	}
	p.Capped = len(tokens) == familyLimit
	p.Families = groupFamilies(tokens, clock.Now)
	return c.render(ec, http.StatusOK, "families", view{Title: "Token families", Nav: "families", Data: p})
}

type familyPage struct {
	*familyView
	Now     time.Time
	Picture familyPicture
}

func (c *Console) family(ec echo.Context) error {
	ctx := ec.Request().Context()
	clock, err := c.b.Clock(ctx)
	if err != nil {
		return err
	}
	tokens, err := c.b.Tokens(ctx, TokenQuery{ClientID: param(ec, "client"), FamilyID: param(ec, "family")})
	if err != nil {
		return err
	}
	fams := groupFamilies(tokens, clock.Now)
	if len(fams) != 1 {
		return ErrNotFound
	}
	f := fams[0]
	return c.render(ec, http.StatusOK, "family", view{Title: "Token family " + shortID(f.ID), Nav: "families",
		Data: familyPage{familyView: f, Now: clock.Now, Picture: drawFamily(f)}})
}
