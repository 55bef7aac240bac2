package console

import (
	"fmt"
	"time"
)

// familyPicture is a family drawn as a tree down the page: one row per
// grant step (tokens issued together), an arrow from each consumed token
// to what replaced it, revoked and expired tokens styled apart, and reuse
// detection marked. The server computes the geometry; the template only
// writes it out as SVG (styled by classes, so the CSP holds).
type familyPicture struct {
	Width, Height int
	Rows          []pictureRow
	Boxes         []pictureBox
	Edges         []pictureEdge
	Reuse         *pictureBanner
	Summary       string // the picture in words, for screen readers
}

type pictureRow struct {
	Y     int
	Label string
}

type pictureBox struct {
	X, Y, W, H  int
	Class       string
	Kind, ID    string
	State, When string
	Replayed    bool
}

type pictureEdge struct {
	X1, Y1, X2, Y2 int
	LX, LY         int
	Label          string
}

type pictureBanner struct {
	Y, W  int
	Lines []string
}

const (
	boxW, boxH = 214, 58
	gapX       = 20
	rowH       = 118
	marginX    = 14
	labelH     = 22
)

func drawFamily(f *familyView) familyPicture {
	// Steps: tokens issued at one instant came from one grant or exchange.
	type step struct {
		at     time.Time
		tokens []tokenView
	}
	var steps []*step
	for _, t := range f.Tokens {
		if n := len(steps); n > 0 && steps[n-1].at.Equal(t.Issued) {
			steps[n-1].tokens = append(steps[n-1].tokens, t)
			continue
		}
		steps = append(steps, &step{at: t.Issued, tokens: []tokenView{t}})
	}
	p := familyPicture{Width: 2*marginX + 2*boxW + gapX}
	where := map[string]pictureBox{}
	consumedBy := map[int64][]string{} // exchange instant -> consumed token ids
	for _, t := range f.Tokens {
		if !t.Consumed.IsZero() {
			consumedBy[t.Consumed.UnixMicro()] = append(consumedBy[t.Consumed.UnixMicro()], t.ID)
		}
	}
	for i, s := range steps {
		y := 8 + i*rowH
		p.Width = max(p.Width, 2*marginX+len(s.tokens)*boxW+(len(s.tokens)-1)*gapX)
		label := "issued"
		if from := consumedBy[s.at.UnixMicro()]; len(from) > 0 && i > 0 {
			label = where[from[0]].Kind + " " + exchangeLabel(where[from[0]].Kind)
		}
		p.Rows = append(p.Rows, pictureRow{Y: y + 14, Label: fmt.Sprintf("%d · %s · %s", i+1, label, s.at.UTC().Format("15:04:05.000"))})
		for j, t := range s.tokens {
			b := pictureBox{X: marginX + j*(boxW+gapX), Y: y + labelH, W: boxW, H: boxH, Class: "tok state-" + t.State,
				Kind: t.Kind, ID: shortID(t.ID), State: t.State, When: tokenWhen(&t), Replayed: t.ID == f.Replayed}
			where[t.ID] = b
			p.Boxes = append(p.Boxes, b)
		}
	}
	for _, t := range f.Tokens {
		from, ok := where[t.ID]
		if t.Consumed.IsZero() || !ok {
			continue
		}
		for _, s := range steps {
			if s.at.UnixMicro() != t.Consumed.UnixMicro() {
				continue
			}
			// Point at the successor of the same kind (the refresh token
			// that replaced a refresh token), else the step's first token.
			to := where[s.tokens[0].ID]
			for _, n := range s.tokens {
				if n.Kind == t.Kind {
					to = where[n.ID]
				}
			}
			x1, y1 := from.X+from.W/2, from.Y+from.H
			x2, y2 := to.X+to.W/2, to.Y-labelH-2
			p.Edges = append(p.Edges, pictureEdge{X1: x1, Y1: y1, X2: x2, Y2: y2, LX: (x1+x2)/2 + 6, LY: (y1+y2)/2 + 4,
				Label: exchangeLabel(t.Kind)})
		}
	}
	p.Height = 8 + len(steps)*rowH
	if !f.ReuseAt.IsZero() {
		lines := []string{"Reuse detected " + f.ReuseAt.UTC().Format("15:04:05.000") + ":",
			"a consumed token was presented again,", "so the whole family was revoked."}
		p.Reuse = &pictureBanner{Y: p.Height, W: p.Width - 2*marginX, Lines: lines}
		p.Height += 78
	}
	p.Summary = fmt.Sprintf("Token family of %d tokens in %d steps, state %s.", len(f.Tokens), len(steps), f.State)
	return p
}

// exchangeLabel names what happened to a consumed token of kind.
func exchangeLabel(kind string) string {
	if kind == "code" {
		return "redeemed"
	}
	return "rotated"
}

// tokenWhen is the one time a token box shows: what ended it, or when it ends.
func tokenWhen(t *tokenView) string {
	switch t.State {
	case stateRevoked:
		return "revoked " + t.Revoked.UTC().Format("15:04:05")
	case stateConsumed:
		return "consumed " + t.Consumed.UTC().Format("15:04:05")
	case stateExpired:
		return "expired " + t.Expires.UTC().Format("Jan 2 15:04")
	}
	return "expires " + t.Expires.UTC().Format("Jan 2 15:04")
}
