// Package declared is the built-in dialect type whose wire format comes
// from a spec file (package spec): `type: declared` in the config, with
// `spec:` naming the file, enabled as often as there are vendors to
// emulate, or added at run time (FromSpec; the admin API's POST
// /_admin/dialects through package dynamic). Each route is bound to an engine operation, so a
// declared vendor gets the engine's token semantics (codes redeemed once,
// refresh rotation with reuse detection, the admin clock, revocation) and
// the control plane's journal, faults and redaction like a built-in one,
// and an OpenAPI document generated from its spec (Describer).
//
// It imports no gorm or storage package.
package declared
