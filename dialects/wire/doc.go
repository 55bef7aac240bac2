// Package wire is the HTTP plumbing the dialects share: strict form and JSON
// decoding with duplicate-parameter detection, client authentication
// extraction, bearer tokens, the default status table for core error kinds,
// and the per-request annotations the gateway logs and journals.
//
// Every decoding failure is returned as a *core.Error so each dialect can
// render it in its own style.
package wire
