// Package spec is the language of declared dialects: a vendor's token API
// written as a YAML file (routes bound to engine operations, where each
// input comes from, response and error bodies with typed placeholders,
// token formats), parsed and validated with exact paths into a compiled,
// immutable Spec that renders responses without reflection, and describes
// itself as an OpenAPI 3.1 document (Spec.OpenAPI: schemas derived from the
// same templates, examples rendered by them).
//
// It is pure: it imports core, the standard library and go.yaml.in/yaml/v3
// only, and knows nothing of echo, the gateway or storage. The declared
// dialect mounts a Spec; see docs/declared-dialects.md for the vocabulary.
package spec
