package console

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// The dialects page lists the mounted instances, the config's and those
// added at run time, adds one from an uploaded spec file and removes one
// added at run time: POST and DELETE /_admin/dialects, from a browser.

func (c *Console) mountDialects(g *echo.Group) {
	g.GET("/dialects", c.dialects)
	g.POST("/dialects", c.addDialect)
	g.GET("/dialects/:name", c.dialect)
	g.POST("/dialects/:name/delete", c.removeDialect)
}

type dialectsPage struct {
	Dialects []Dialect
	Form     url.Values
	Problems []string
	Field    string
	MaxKiB   int
}

func (c *Console) dialectsPage(ec echo.Context, status int, form url.Values, err error) error {
	p := dialectsPage{Dialects: c.b.Dialects(), Form: form, MaxKiB: maxFormBytes >> 10}
	p.Problems, p.Field = problemsOf(err)
	return c.render(ec, status, "dialects", view{Title: "Dialects", Nav: "dialects", Data: p})
}

func (c *Console) dialects(ec echo.Context) error {
	return c.dialectsPage(ec, http.StatusOK, url.Values{}, nil)
}

func (c *Console) dialect(ec echo.Context) error {
	d, err := c.b.Dialect(ec.Request().Context(), param(ec, "name"))
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "dialect", view{Title: "Dialect " + d.Name, Nav: "dialects", Data: d})
}

// addDialect reads the form (requireSession parsed it, within
// maxFormBytes): the spec file, and the name and prefix, both optional.
func (c *Console) addDialect(ec echo.Context) error {
	form := url.Values{"name": {strings.TrimSpace(ec.FormValue("name"))}, "prefix": {strings.TrimSpace(ec.FormValue("prefix"))}}
	text, err := specFile(ec)
	var d Dialect
	if err == nil {
		d, err = c.b.AddDialect(ec.Request().Context(), NewDialect{Name: form.Get("name"), Prefix: form.Get("prefix"), Spec: text})
	}
	var ie *InputError
	if errors.As(err, &ie) {
		status := http.StatusBadRequest
		if ie.Conflict {
			status = http.StatusConflict
		}
		return c.dialectsPage(ec, status, form, err)
	}
	if err != nil {
		return err
	}
	return c.redirect(ec, u("/dialects/", d.Name), "Dialect "+d.Name+" added; it serves now and after a restart.")
}

// specFile is the uploaded spec's text.
func specFile(ec echo.Context) (string, error) {
	missing := &InputError{Field: "spec", Problems: []string{"spec: choose a spec file (YAML) to upload"}}
	fh, err := ec.FormFile("spec")
	if err != nil {
		return "", missing
	}
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFormBytes))
	switch {
	case err != nil:
		return "", err
	case len(b) == 0:
		return "", missing
	case !utf8.Valid(b):
		return "", &InputError{Field: "spec", Problems: []string{"spec: the file is not text (UTF-8)"}}
	}
	return string(b), nil
}

func (c *Console) removeDialect(ec echo.Context) error {
	name := param(ec, "name")
	err := c.b.RemoveDialect(ec.Request().Context(), name)
	var ie *InputError
	if errors.As(err, &ie) {
		return c.dialectsPage(ec, http.StatusConflict, url.Values{}, err)
	}
	if err != nil {
		return err
	}
	return c.redirect(ec, u("/dialects"), "Dialect "+name+" removed.")
}
