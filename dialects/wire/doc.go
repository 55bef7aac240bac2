// Package wire is the HTTP plumbing the dialects share: strict form and JSON
// decoding with duplicate-parameter detection, client authentication
// extraction, bearer tokens, the default status table for core error kinds,
// the one per-request value (Request: who serves the request, what it
// presented, how it was answered, its body parsed once), the neutral Answer
// a dialect writes in its envelope, the ForcedAnswer of a fault rule, and
// the Facts a dialect declares about its wire.
//
// Every decoding failure is returned as a *core.Error so each dialect can
// render it in its own style.
package wire
