package tokengatetest

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Browser drives the gateway's login pages as a user's browser would,
// without a test having to read HTML: it keeps cookies (the CSRF cookie
// and the login session), fills in the forms and stops at the redirect
// back to the client.
type Browser struct {
	g      *Gateway
	client *http.Client
}

// Browser returns a browser with an empty cookie jar.
func (g *Gateway) Browser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{g: g, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// ErrLoginPage reports that a page asked for a password where Authorize
// expected none (no usable login session).
var ErrLoginPage = errors.New("tokengatetest: the login page asks for a password")

// Login opens authURL (an authorization request) and, if the login page
// asks, signs in as username and allows. It returns where the gateway
// redirects: the client's redirect_uri with a code or an error.
func (b *Browser) Login(authURL, username, password string) (*url.URL, error) {
	return b.authorize(authURL, func(form url.Values) {
		form.Set("username", username)
		form.Set("password", password)
	})
}

// Authorize opens authURL expecting no login form (a login session or
// prompt=none); it fails with ErrLoginPage when the form is shown.
func (b *Browser) Authorize(authURL string) (*url.URL, error) { return b.authorize(authURL, nil) }

func (b *Browser) authorize(authURL string, fill func(url.Values)) (*url.URL, error) {
	resp, page, err := b.get(authURL)
	if err != nil {
		return nil, err
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusSeeOther && loc != "" {
		return url.Parse(loc)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tokengatetest: the authorization page answered %d: %s", resp.StatusCode, pageError(page))
	}
	if fill == nil {
		return nil, ErrLoginPage
	}
	action, form, err := parseForm(page)
	if err != nil {
		return nil, err
	}
	fill(form)
	form.Set("decision", "allow")
	return b.submit(resp.Request.URL, action, form)
}

// LoginCode runs Login in a fresh browser and returns the code, or an
// error naming the error the gateway redirected with.
func (g *Gateway) LoginCode(authURL, username, password string) (string, error) {
	loc, err := g.Browser().Login(authURL, username, password)
	if err != nil {
		return "", err
	}
	if e := loc.Query().Get("error"); e != "" {
		return "", fmt.Errorf("tokengatetest: redirected with error %s: %s", e, loc.Query().Get("error_description"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("tokengatetest: no code in the redirect %s", loc)
	}
	return code, nil
}

// ApproveDevice opens a device authorization's verification page
// (verification_uri_complete, or verification_uri and the user code), signs
// in as username unless a login session does, and allows (approve) or
// denies the device.
func (b *Browser) ApproveDevice(verificationURI, userCode, username, password string, approve bool) error {
	u, err := url.Parse(verificationURI)
	if err != nil {
		return err
	}
	if userCode != "" {
		q := u.Query()
		q.Set("user_code", userCode)
		u.RawQuery = q.Encode()
	}
	resp, page, err := b.get(u.String())
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("tokengatetest: the verification page answered %d: %s", resp.StatusCode, pageError(page))
	}
	action, form, err := parseForm(page)
	if err != nil {
		return err
	}
	form.Set("user_code", userCode)
	if userCode == "" {
		form.Set("user_code", u.Query().Get("user_code"))
	}
	form.Set("username", username)
	form.Set("password", password)
	form.Set("decision", map[bool]string{true: "allow", false: "deny"}[approve])
	target, _ := resp.Request.URL.Parse(action)
	resp, page, err = b.post(target.String(), form)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `role="status"`) {
		return fmt.Errorf("tokengatetest: the device was not answered (%d): %s", resp.StatusCode, pageError(page))
	}
	return nil
}

func (b *Browser) submit(base *url.URL, action string, form url.Values) (*url.URL, error) {
	target, err := base.Parse(action)
	if err != nil {
		return nil, err
	}
	resp, page, err := b.post(target.String(), form)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("tokengatetest: the login form answered %d: %s", resp.StatusCode, pageError(page))
	}
	return url.Parse(resp.Header.Get("Location"))
}

func (b *Browser) get(u string) (*http.Response, string, error) {
	resp, err := b.client.Get(u)
	return read(resp, err)
}

func (b *Browser) post(u string, form url.Values) (*http.Response, string, error) {
	resp, err := b.client.PostForm(u, form)
	return read(resp, err)
}

func read(resp *http.Response, err error) (*http.Response, string, error) {
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	errorLine   = regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`)
)

// parseForm reads the login page's form: where it posts and its hidden
// fields (the authorization request and the CSRF token).
func parseForm(page string) (string, url.Values, error) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil, fmt.Errorf("tokengatetest: no form on the page: %.200s", page)
	}
	form := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), form, nil
}

// pageError is the error a page shows, or its start.
func pageError(page string) string {
	if m := errorLine.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(m[1])
	}
	if len(page) > 200 {
		return page[:200]
	}
	return page
}
