// Package acceleration is the Acceleration Cloud dialect: Basic
// client auth plus user_id, RS256 JWT access tokens, a JWKS and an inferred
// protected userinfo endpoint.
package acceleration
