// Package admin is the test control plane's HTTP API under /_admin: state
// (clients, users, authorizations, tokens), the clock, fault rules and the
// request journal. Every call needs the admin bearer token; input is
// validated with validator/v10 and errors name the field.
package admin

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/config"
	"github.com/tokengate/tokengate/core"
	"github.com/tokengate/tokengate/dialects/control"
	"github.com/tokengate/tokengate/dialects/wire"
)

// Prefix is where the admin API lives.
const Prefix = "/_admin"

// API serves the control plane.
type API struct {
	cfg      *config.Config
	engine   *core.Engine
	clock    *core.AdjustableClock
	plane    *control.Plane
	token    []byte
	validate *validator.Validate
	dialects Dialects // nil: no dialects added at run time
	// Docs, when set, serves GET /_admin/openapi/{dialect} (see openapi.go).
	Docs DocsFunc
}

// New builds the API. token is the admin bearer token; empty disables the
// API (every call answers 401).
func New(cfg *config.Config, engine *core.Engine, clock *core.AdjustableClock, plane *control.Plane) *API {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string { return jsonName(f.Tag.Get("json"), f.Name) })
	return &API{cfg: cfg, engine: engine, clock: clock, plane: plane, token: []byte(cfg.AdminToken), validate: v}
}

// Mount adds the routes to e under /_admin.
func (a *API) Mount(e *echo.Echo) {
	g := e.Group(Prefix, a.auth)
	g.GET("/clients", a.listClients)
	g.POST("/clients", a.createClient)
	g.GET("/clients/:id", a.getClient)
	g.PUT("/clients/:id", a.putClient)
	g.DELETE("/clients/:id", a.deleteClient)
	g.POST("/clients/:id/revoke-tokens", a.revokeClientTokens)
	g.GET("/users", a.listUsers)
	g.POST("/users", a.createUser)
	g.GET("/users/:id", a.getUser)
	g.PUT("/users/:id", a.putUser)
	g.DELETE("/users/:id", a.deleteUser)
	g.GET("/authorizations", a.listAuthorizations)
	g.POST("/authorizations", a.createAuthorization)
	g.GET("/authorizations/:id", a.getAuthorization)
	g.PUT("/authorizations/:id", a.putAuthorization)
	g.DELETE("/authorizations/:id", a.deleteAuthorization)
	g.GET("/tokens", a.listTokens)
	g.POST("/tokens/revoke", a.revokeToken)
	g.DELETE("/tokens/:id", a.revokeTokenByID)
	g.POST("/reset", a.reset)
	g.GET("/clock", a.getClock)
	g.POST("/clock", a.setClock)
	g.GET("/faults", a.listFaults)
	g.POST("/faults", a.addFault)
	g.DELETE("/faults", a.clearFaults)
	g.DELETE("/faults/:id", a.deleteFault)
	g.GET("/dialects", a.listDialects)
	g.POST("/dialects", a.addDialect)
	g.GET("/dialects/:name", a.getDialect)
	g.DELETE("/dialects/:name", a.removeDialect)
	g.GET("/requests", a.listRequests)
	g.DELETE("/requests", a.clearRequests)
	g.GET("/openapi/:dialect", a.openapi)
}

// auth checks the bearer token in constant time.
func (a *API) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, tok, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if len(a.token) == 0 || !strings.EqualFold(scheme, "Bearer") ||
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), a.token) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="tokengate-admin"`)
			return c.JSON(http.StatusUnauthorized, Problem{Error: "unauthorized", Message: "a valid admin bearer token is required"})
		}
		// Replicas: start from the state the others left (clock, faults).
		if err := a.plane.Sync(c.Request().Context()); err != nil {
			return storeFailed(c, err)
		}
		return next(c)
	}
}

// Problem is the admin API's error body.
type Problem struct {
	Error    string   `json:"error"`
	Message  string   `json:"message,omitempty"`
	Field    string   `json:"field,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

func invalid(c echo.Context, field, msg string) error {
	p := Problem{Error: "invalid_request", Field: field, Message: msg, Problems: []string{field + ": " + msg}}
	if field == "" {
		p.Problems = []string{msg}
	}
	return c.JSON(http.StatusBadRequest, p)
}

// validationFailed renders a config.ValidationError or validator errors.
func (a *API) validationFailed(c echo.Context, err error) error {
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		p := Problem{Error: "invalid_request", Message: "validation failed", Problems: ve.Problems}
		if len(ve.Problems) > 0 {
			p.Field, _, _ = strings.Cut(ve.Problems[0], ":")
		}
		return c.JSON(http.StatusBadRequest, p)
	}
	var fes validator.ValidationErrors
	if errors.As(err, &fes) {
		p := Problem{Error: "invalid_request", Message: "validation failed"}
		for _, fe := range fes {
			field := strings.SplitN(fe.Namespace(), ".", 2)
			name := field[len(field)-1]
			p.Problems = append(p.Problems, name+": "+tagInWords(fe))
			if p.Field == "" {
				p.Field = name
			}
		}
		return c.JSON(http.StatusBadRequest, p)
	}
	return invalid(c, "", err.Error())
}

// tagInWords words a failed validation tag of a fault rule or reset body.
func tagInWords(fe validator.FieldError) string {
	switch fe.Tag() {
	case "min":
		return "must be at least " + fe.Param()
	case "max":
		return "must be at most " + fe.Param()
	case "startswith":
		return fmt.Sprintf("must start with %q", fe.Param())
	case "oneof":
		return "must be one of " + strings.Join(strings.Fields(fe.Param()), ", ")
	}
	return strings.TrimSpace("failed " + fe.Tag() + " " + fe.Param())
}

func notFound(c echo.Context, what, id string) error {
	return c.JSON(http.StatusNotFound, Problem{Error: "not_found", Message: fmt.Sprintf("no %s %q", what, wire.Truncate(id, 64))})
}

// failed answers an engine error: KindNotFound as no such what (with id),
// a conflict or an invalid request naming the field, anything else as
// storeFailed does.
func failed(c echo.Context, err error, what, id string) error {
	var e *core.Error
	if !errors.As(err, &e) {
		return storeFailed(c, err)
	}
	switch e.Kind {
	case core.KindNotFound:
		return notFound(c, what, id)
	case core.KindConflict:
		msg := e.Description
		if recordIDs[e.Param] {
			msg += "; use PUT to replace it"
		}
		return c.JSON(http.StatusConflict, Problem{Error: "conflict", Field: e.Param, Message: msg})
	case core.KindInvalidRequest:
		return invalid(c, e.Param, e.Description)
	}
	return storeFailed(c, err)
}

// recordIDs are the fields that name a record: a POST that conflicts on
// one should have been a PUT.
var recordIDs = map[string]bool{"client_id": true, "user_id": true, "auth_id": true}

// storeFailed answers an unexpected store error without leaking its text.
func storeFailed(c echo.Context, err error) error {
	if core.KindOf(err) == core.KindUnavailable {
		return c.JSON(http.StatusServiceUnavailable, Problem{Error: "unavailable", Message: "storage unavailable"})
	}
	c.Logger().Error(err)
	return c.JSON(http.StatusInternalServerError, Problem{Error: "server_error", Message: "internal error"})
}

// decode reads a strict JSON body into v: unknown fields, a key given
// twice in one object and trailing data are errors naming the problem, and
// a value of the wrong type names the field and the type wanted in words.
func decode(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return errors.New("Content-Type must be application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return errors.New("the body could not be read")
	}
	if err := noDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return errors.New("the body must be " + typeInWords(te.Type))
			}
			return fmt.Errorf("%s: must be %s", te.Field, typeInWords(te.Type))
		}
		// encoding/json's own message names an unknown field; it holds no values.
		return fmt.Errorf("invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

var (
	durationType = reflect.TypeFor[config.Duration]()
	secondsType  = reflect.TypeFor[control.Seconds]()
	timeType     = reflect.TypeFor[time.Time]()
)

// typeInWords names what a JSON value of Go type t must be.
func typeInWords(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType, secondsType:
		return "a duration such as \"90s\""
	case timeType:
		return "an RFC 3339 time such as \"2030-01-01T00:00:00Z\""
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a JSON value"
}

// maxJSONDepth bounds how deeply an admin body may nest.
const maxJSONDepth = 32

// noDuplicateKeys fails when an object of body has a key twice (compared
// as encoding/json matches fields: without regard to case), naming its
// path: encoding/json would silently keep the last one.
func noDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(path string, depth int) error
	walk = func(path string, depth int) error {
		tok, err := dec.Token()
		if err != nil {
			return nil // not JSON: Decode words it
		}
		delim, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		if depth > maxJSONDepth {
			return fmt.Errorf("invalid JSON body: nested more than %d deep", maxJSONDepth)
		}
		seen := map[string]bool{}
		for i := 0; dec.More(); i++ {
			elem := fmt.Sprintf("%s[%d]", path, i)
			if delim == '{' {
				kt, err := dec.Token()
				if err != nil {
					return nil
				}
				key, _ := kt.(string)
				if elem = key; path != "" {
					elem = path + "." + key
				}
				if seen[strings.ToLower(key)] {
					return fmt.Errorf("%s: given twice", wire.Truncate(elem, 64))
				}
				seen[strings.ToLower(key)] = true
			}
			if err := walk(elem, depth+1); err != nil {
				return err
			}
		}
		_, _ = dec.Token() // the closing delimiter
		return nil
	}
	return walk("", 0)
}

func jsonName(tag, field string) string {
	name, _, _ := strings.Cut(tag, ",")
	switch name {
	case "-":
		return ""
	case "":
		return field
	}
	return name
}
