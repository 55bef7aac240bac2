//go:build !unix

package app

// fdLimit is unknown here: the default cap applies.
func fdLimit() uint64 { return 0 }
