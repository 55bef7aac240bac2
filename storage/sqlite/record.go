package sqlite

import (
	"errors"
	"strconv"
	"strings"
)

// The token read on the hot path (GetToken) asks SQLite for one text value
// that encodes the whole row, instead of 15 columns. The driver's work per
// column (a few cgo calls, the column's name and declared type fetched again
// for every query, a string copy, database/sql's conversion) cost more than
// SQLite's own lookup: BenchmarkGetToken took 16–21 µs and 81 allocations a
// read with 15 columns, 8.4–9.2 µs and 25 with the one encoded column.
//
// Encoding: every text column as its length in bytes, ':', its bytes (so
// any content, separators included, round-trips); then every integer
// column as its decimal digits or nothing for NULL, each followed by ','.

// The text and integer columns of a token row, in the order they are
// encoded, and the row's fields for them in the same order (the array
// lengths tie each list to its fields; TestEncodedReadRoundTrips, the order).
var (
	tokenTextColumns = [...]string{"kind", "client_id", "user_id", "dialect", "scopes", "family_id",
		"redirect_uri", "code_challenge", "code_challenge_method", "details"}
	tokenIntColumns = [...]string{"issued_at", "expires_at", "auth_time", "consumed_at", "revoked_at"}
)

func tokenTextFields(r *tokenRow) [len(tokenTextColumns)]*string {
	return [...]*string{&r.Kind, &r.ClientID, &r.UserID, &r.Dialect, &r.Scopes, &r.FamilyID,
		&r.RedirectURI, &r.CodeChallenge, &r.CodeChallengeMethod, &r.Details}
}

func tokenIntFields(r *tokenRow) [len(tokenIntColumns)]**int64 {
	return [...]**int64{&r.Issued, &r.Expires, &r.AuthTime, &r.Consumed, &r.Revoked}
}

// encodedTokenSQL selects a token row as one encoded value.
func encodedTokenSQL() string {
	var parts []string
	for _, c := range tokenTextColumns {
		parts = append(parts, "octet_length("+c+")", "':'", c)
	}
	for _, c := range tokenIntColumns {
		parts = append(parts, "ifnull("+c+", '')", "','")
	}
	return "SELECT " + strings.Join(parts, " || ") + " FROM tokens WHERE digest = ?"
}

// encodeToken encodes r as encodedTokenSQL reads it back once stored, so
// that the token read cache can keep a row the writer has just committed
// (TestEncodedReadRoundTrips compares the two).
func encodeToken(r *tokenRow) string {
	b := make([]byte, 0, 256)
	for _, f := range tokenTextFields(r) {
		b = strconv.AppendInt(b, int64(len(*f)), 10)
		b = append(b, ':')
		b = append(b, *f...)
	}
	for _, f := range tokenIntFields(r) {
		if *f != nil {
			b = strconv.AppendInt(b, **f, 10)
		}
		b = append(b, ',')
	}
	return string(b)
}

var errBadRecord = errors.New("sqlite: malformed token record")

// decodeToken fills r (but its Digest) from an encoded row.
func decodeToken(enc string, r *tokenRow) error {
	d := recordDecoder{rest: enc}
	for _, dst := range tokenTextFields(r) {
		*dst = d.text()
	}
	// One backing array for the times: one allocation, not one each.
	var times [len(tokenIntColumns)]int64
	for i, dst := range tokenIntFields(r) {
		if v, ok := d.integer(); ok {
			times[i] = v
			*dst = &times[i]
		}
	}
	if d.err != nil || d.rest != "" {
		return errBadRecord
	}
	return nil
}

type recordDecoder struct {
	rest string
	err  error
}

func (d *recordDecoder) text() string {
	colon := strings.IndexByte(d.rest, ':')
	if colon < 0 {
		d.err = errBadRecord
		return ""
	}
	n, err := strconv.Atoi(d.rest[:colon])
	if err != nil || n < 0 || n > len(d.rest)-colon-1 {
		d.err = errBadRecord
		return ""
	}
	s := d.rest[colon+1 : colon+1+n]
	d.rest = d.rest[colon+1+n:]
	return s
}

// integer reads one integer column; ok is false for NULL.
func (d *recordDecoder) integer() (v int64, ok bool) {
	comma := strings.IndexByte(d.rest, ',')
	if comma < 0 {
		d.err = errBadRecord
		return 0, false
	}
	digits := d.rest[:comma]
	d.rest = d.rest[comma+1:]
	if digits == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		d.err = errBadRecord
		return 0, false
	}
	return v, true
}
