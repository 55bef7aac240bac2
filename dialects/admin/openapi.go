package admin

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/openapi"
)

// DocsFunc returns the OpenAPI document of the dialect instance named
// instance, as YAML or JSON; found is false when no such instance is
// mounted.
type DocsFunc func(instance string, asYAML bool) (doc []byte, found bool, err error)

// openapi answers GET /_admin/openapi/{dialect}: the instance's OpenAPI 3.1
// document, JSON by default, YAML with ?format=yaml.
func (a *API) openapi(c echo.Context) error {
	name := c.Param("dialect")
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "yaml" {
		return invalid(c, "format", "must be json or yaml")
	}
	if a.Docs == nil {
		return notFound(c, "dialect", name)
	}
	doc, found, err := a.Docs(name, format == "yaml")
	switch {
	case !found:
		return notFound(c, "dialect", name)
	case errors.Is(err, openapi.ErrNotDescribed):
		return c.JSON(http.StatusNotFound, Problem{Error: "not_found", Message: err.Error()})
	case err != nil:
		return storeFailed(c, err)
	case format == "yaml":
		return c.Blob(http.StatusOK, "application/yaml", doc)
	}
	return c.JSONBlob(http.StatusOK, doc)
}
