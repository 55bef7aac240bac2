package wire_test

import (
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tokengate/tokengate/dialects/wire"
)

// failReader fails the test if anything reads the body a second time.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("the body was read twice")
	return 0, io.EOF
}

// TestBodyParsedOnce: whoever reads first (the control plane's Params or
// the dialect's decoder), the other reuses the parse; nothing reads the
// body again.
func TestBodyParsedOnce(t *testing.T) {
	for _, tc := range []struct {
		contentType, body string
		decode            func(echo.Context) (string, error)
	}{
		{echo.MIMEApplicationForm, "client_id=c&client_secret=s", func(c echo.Context) (string, error) {
			f, err := wire.Form(c)
			return f.Get("client_id"), err
		}},
		{echo.MIMEApplicationJSON, `{"client_id": "c", "n": 1}`, func(c echo.Context) (string, error) {
			obj, err := wire.JSONObject(c)
			if err != nil {
				return "", err
			}
			return wire.JSONString(obj, "client_id")
		}},
	} {
		for _, peekFirst := range []bool{true, false} {
			req := httptest.NewRequest(http.MethodPost, "/t?q=1", strings.NewReader(tc.body))
			req.Header.Set(echo.HeaderContentType, tc.contentType)
			c := echo.New().NewContext(req, httptest.NewRecorder())
			var params map[string][]string
			var id string
			var err error
			peek := func() { params = wire.Params(c) }
			decode := func() { id, err = tc.decode(c) }
			first, second := peek, decode
			if !peekFirst {
				first, second = decode, peek
			}
			first()
			req.Body = io.NopCloser(failReader{t}) // the first reader consumed the body
			second()
			if err != nil || id != "c" {
				t.Fatalf("%s decode (peek first %v): %q %v", tc.contentType, peekFirst, id, err)
			}
			if len(params["client_id"]) != 1 || params["client_id"][0] != "c" || params["q"][0] != "1" {
				t.Fatalf("%s params (peek first %v): %v", tc.contentType, peekFirst, params)
			}
		}
	}
}

// TestParamsWithoutQuery: a body's parameters alone are the params, as
// they are with a query beside them.
func TestParamsWithoutQuery(t *testing.T) {
	for _, target := range []string{"/t", "/t?q=1"} {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader("client_id=c&scope=a&scope=b"))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		c := echo.New().NewContext(req, httptest.NewRecorder())
		p := wire.Params(c)
		if p.Get("client_id") != "c" || len(p["scope"]) != 2 || p["scope"][1] != "b" || (target == "/t?q=1") != p.Has("q") {
			t.Fatalf("%s: params %v", target, p)
		}
	}
}

// TestMediaTypeAgreesWithMime: the plain-type shortcut answers what
// mime.ParseMediaType would, and everything else still goes through it.
func TestMediaTypeAgreesWithMime(t *testing.T) {
	for _, ct := range []string{
		"application/x-www-form-urlencoded", "application/json", "APPLICATION/JSON", "application/json; charset=utf-8",
		" application/json", "application/json ", "text/plain;", "application/vnd.api+json", "image/svg+xml",
		"application/x-www-form-urlencoded;charset=UTF-8", "application", "/json", "application/", "a/b/c",
		"application/jso n", "application/json\t", "multipart/form-data; boundary=x",
	} {
		req := httptest.NewRequest(http.MethodPost, "/t", nil)
		req.Header.Set(echo.HeaderContentType, ct)
		got := wire.MediaType(echo.New().NewContext(req, httptest.NewRecorder()))
		want, _, err := mime.ParseMediaType(ct)
		if err != nil {
			want = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
		}
		if got != want {
			t.Errorf("MediaType(%q) = %q, mime says %q", ct, got, want)
		}
	}
}
