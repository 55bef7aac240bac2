// Package hurdlr is the Hurdlr dialect: the accountant token
// endpoint with three grants in <64 hex>.<32 hex> format and the accountant
// login page.
package hurdlr
