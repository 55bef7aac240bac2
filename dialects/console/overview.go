package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type overviewPage struct {
	Overview
	Dialects []Dialect
}

func (c *Console) overview(ec echo.Context) error {
	o, err := c.b.Overview(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Data: overviewPage{o, c.b.Dialects()}})
}
