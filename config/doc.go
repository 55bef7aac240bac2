// Package config owns tokengate's configuration: the YAML schema (Config and
// the Client, User, LinkedAccount and Authorization records the admin API
// also uses as JSON bodies), its validation with exact key paths
// ("clients[1].redirect_uris[0]: must be an absolute URL"), the embedded
// demo default (default.yaml), the TOKENGATE_* environment overrides, the
// conversion of configured records to and from core models, and the
// core.Seed the engine stores at start and on reset (config writes to no
// store).
//
// Dialect-specific settings stay opaque here: every dialect gets a
// DialectConfig whose unknown keys land in Options, and the dialect decodes
// them strictly into its own struct with DecodeOptions.
//
// The package depends on core, yaml.v3 and validator only; it must not
// import echo or gorm (or storage, dialects and cmd).
package config
