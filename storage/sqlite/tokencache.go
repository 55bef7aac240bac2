package sqlite

import "sync"

// tokenCache keeps the encoded rows (record.go) of tokens written or read
// lately, so that a token validated again and again (a client calling an
// API with the same bearer token), or right after it was issued, or a
// refresh token rotated, is answered without an SQLite read transaction:
// in a write-heavy WAL database each read takes and drops a shared-memory
// lock (two fcntl calls) and often re-reads pages the writer changed,
// about a fifth of a validation's CPU.
//
// It relies on the store being its database's only writer of tokens: one
// gateway process per SQLite file (several gateways share PostgreSQL,
// which has no such cache). Every write that may change or remove a stored
// token calls forget (one token) or clear (any token) once it has
// finished, whatever its outcome. A row is cached with the stamp taken
// before it was read (or, for a row the store wrote, before the write),
// and put refuses it when a forget of that token or a clear came since:
// the row may predate that write. So once a write has returned, no read
// sees the row as it was before it.
//
// It holds at most about 2*half entries in two generations: when the
// current one is full it becomes the old one and the old one goes, so the
// rows used lately stay and the memory is bounded (about 320 bytes a
// usual row; a row longer than maxCachedRow, a client's long nonce or
// audience, say, is not cached, so no client can make the cache large).
// A forgotten token leaves a tombstone, which put checks; dropping a
// generation that held one advances the epoch, which turns away every put
// whose stamp is older, as that tombstone can no longer do it.
type tokenCache struct {
	mu       sync.Mutex
	epoch    uint64 // advanced by clear and by dropping tombstones
	forgets  uint64 // forget calls so far: tombstones are numbered by it
	cur, old generation
	half     int
}

// generation is one half of the cache and how many tombstones it holds.
type generation struct {
	rows  map[string]cachedRow
	tombs int
}

// cachedRow is a token's encoded row or, when forgotten is not 0, a
// tombstone: the token was written by the forgotten-th forget.
type cachedRow struct {
	enc       string
	forgotten uint64
}

// stamp is the cache's state when a read or write began (see put).
type stamp struct{ epoch, forgets uint64 }

// defaultTokenCache is how many rows the cache holds by default: about
// 1.3 MB of heap (some 320 bytes a row with the maps' own).
const defaultTokenCache = 4096

// maxCachedRow is the longest encoded row the cache keeps: a usual one is
// 150 to 400 bytes.
const maxCachedRow = 1024

// newTokenCache holds up to rows rows (rounded down to even); one of 0 or
// fewer holds none.
func newTokenCache(rows int) *tokenCache {
	c := &tokenCache{half: rows / 2}
	c.cur.rows, c.old.rows = map[string]cachedRow{}, map[string]cachedRow{}
	return c
}

// stamp is what a read or write of a token starting now hands to put.
func (c *tokenCache) stamp() stamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return stamp{c.epoch, c.forgets}
}

// get returns the encoded row of digest if cached and, either way, the
// stamp a read from the database started now hands to put.
func (c *tokenCache) get(digest string) (enc string, at stamp, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at = stamp{c.epoch, c.forgets}
	if row, ok := c.cur.rows[digest]; ok {
		return row.enc, at, row.forgotten == 0
	}
	if row, ok := c.old.rows[digest]; ok && row.forgotten == 0 {
		c.keep(digest, row)
		return row.enc, at, true
	}
	return "", at, false
}

// put caches enc as digest's row, read or written by an operation that
// began at stamp at, unless a write to that token (or to any) has
// finished since.
func (c *tokenCache) put(digest, enc string, at stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(enc) > maxCachedRow || at.epoch != c.epoch || c.forgottenSince(digest, at.forgets) {
		return
	}
	c.keep(digest, cachedRow{enc: enc})
}

// forgottenSince reports whether a tombstone of digest is newer than the
// forgets-th forget.
func (c *tokenCache) forgottenSince(digest string, forgets uint64) bool {
	for _, g := range [...]*generation{&c.cur, &c.old} {
		if row, ok := g.rows[digest]; ok && row.forgotten > forgets {
			return true
		}
	}
	return false
}

// keep adds to the current generation, turning it old when it is full.
func (c *tokenCache) keep(digest string, row cachedRow) {
	if c.half <= 0 {
		return
	}
	if prev, ok := c.cur.rows[digest]; ok {
		if prev.forgotten != 0 {
			c.cur.tombs--
		}
	} else if len(c.cur.rows) >= c.half {
		if c.old.tombs > 0 {
			c.epoch++ // the old generation's tombstones go
		}
		c.old, c.cur = c.cur, generation{rows: make(map[string]cachedRow, c.half)}
	}
	if row.forgotten != 0 {
		c.cur.tombs++
	}
	c.cur.rows[digest] = row
}

// forget drops digest's row after a write to that token, leaving a
// tombstone that turns away rows read or written before it.
func (c *tokenCache) forget(digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets++
	if c.half <= 0 {
		return
	}
	c.keep(digest, cachedRow{forgotten: c.forgets})
}

// clear drops every row after a write that may have changed any token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.cur.rows)
	clear(c.old.rows)
	c.cur.tombs, c.old.tombs = 0, 0
}
