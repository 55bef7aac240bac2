package sqlite

import "sync"

// tokenCache keeps the encoded rows (record.go) of tokens read lately, so
// that a token validated again and again (a client calling an API with the
// same bearer token) is answered without an SQLite read transaction: in a
// write-heavy WAL database each read takes and drops a shared-memory lock
// (two fcntl calls) and often re-reads pages the writer changed, about a
// fifth of a validation's CPU.
//
// It relies on the store being its database's only writer of tokens: one
// gateway process per SQLite file (several gateways share PostgreSQL,
// which has no such cache). Every write that may change or remove a stored
// token calls forget (one token) or clear (any token) after it finished,
// whatever its outcome; a read that raced with such a write does not put
// what it read (see put), so once a write has returned no read sees the
// row as it was before it.
//
// It holds at most 2*half rows in two generations: when the current one
// is full it becomes the old one and the old one goes, so the rows read
// lately stay and the memory is bounded (about 300 bytes a row).
type tokenCache struct {
	mu    sync.Mutex
	epoch uint64 // advanced by every forget and clear
	cur   map[string]string
	old   map[string]string
	half  int
}

// defaultTokenCache is how many rows the cache holds by default: about
// 2.5 MB.
const defaultTokenCache = 8192

// newTokenCache holds up to rows rows (rounded down to even); one of 0 or
// fewer holds none.
func newTokenCache(rows int) *tokenCache {
	return &tokenCache{cur: make(map[string]string), old: map[string]string{}, half: rows / 2}
}

// get returns the encoded row of digest if cached and, either way, the
// epoch a read from the database started now must hand to put.
func (c *tokenCache) get(digest string) (enc string, epoch uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if enc, ok = c.cur[digest]; ok {
		return enc, c.epoch, true
	}
	if enc, ok = c.old[digest]; ok {
		c.keep(digest, enc)
	}
	return enc, c.epoch, ok
}

// put caches the row read for digest by a read that started at epoch,
// unless a write has finished since: the row may predate it.
func (c *tokenCache) put(digest, enc string, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch == c.epoch {
		c.keep(digest, enc)
	}
}

// keep adds to the current generation, turning it old when it is full.
func (c *tokenCache) keep(digest, enc string) {
	if c.half <= 0 {
		return
	}
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]string, c.half)
	}
	c.cur[digest] = enc
}

// forget drops digest's row after a write to that token.
func (c *tokenCache) forget(digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.cur, digest)
	delete(c.old, digest)
}

// clear drops every row after a write that may have changed any token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.cur)
	clear(c.old)
}
