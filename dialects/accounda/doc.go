// Package accounda is the Accounda dialect: form-body token endpoint with
// {"error": ...} errors, an inferred refresh endpoint, and the user validate
// and user information endpoints (Accounda's token and user API documents).
package accounda
