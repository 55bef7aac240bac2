// Package core is tokengate's dialect-neutral token engine: the models
// (clients, users, authorizations, tokens), the grants, token minting,
// validation, revocation and the typed errors that dialects render.
//
// It owns the Store, Clock and randomness interfaces and must not import
// echo, gorm, net/http or config: the wire lives in dialects, persistence in
// storage.
package core
