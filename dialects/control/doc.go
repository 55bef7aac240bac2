// Package control holds the test control plane's runtime state that sits on
// the request path: the request journal (what clients sent, redacted) and
// fault injection rules. The admin API (package admin) edits them; the
// gateway runs their middleware on every dialect route.
package control
