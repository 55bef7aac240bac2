// Package control holds the test control plane's runtime state that sits on
// the request path: the request journal (what clients sent, redacted) and
// fault injection rules. The admin API (package admin) edits them; the
// gateway runs their middleware on every dialect route.
//
// control imports no dialect and names no dialect's parameters: where a
// request carries its client id and grant, and which of its values are
// secret beyond the standard ones, each dialect declares (wire.Facts).
package control
