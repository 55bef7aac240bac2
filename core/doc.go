// Package core is tokengate's dialect-neutral token engine: the models
// (clients, users, authorizations, tokens), the grants, token minting,
// validation, revocation and the typed errors that dialects render. The
// engine owns every change of state (state.go: the admin operations,
// seeding, reset, each with its cache invalidation) and the signing keys
// (keyring.go, jws.go: KeyRing and RotateSigningKey); nothing writes to
// the store around it.
//
// It owns the Store, KeyStore, Clock and randomness interfaces and must not
// import echo, gorm, net/http or config: the wire lives in dialects,
// persistence in storage.
package core
