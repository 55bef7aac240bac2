// Package accounda is the Accounda dialect: form-body token endpoint with
// {"error": ...} errors, an inferred refresh endpoint, and the user validate
// and user information endpoints (seeds 000 and 001).
package accounda
