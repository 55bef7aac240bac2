package core_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/tokengate/tokengate/core"
)

// memStore is core.Store in memory for the engine's tests (core's tests do
// not import storage): one mutex makes every operation atomic. Records are
// copied in and out, as the conformance suite requires of real stores.
// While down is set every operation fails with core.ErrUnavailable.
type memStore struct {
	mu      sync.Mutex
	down    bool
	clients map[string]core.Client
	users   map[string]core.User
	auths   map[int64]core.Authorization
	lastID  int64
	tokens  map[string]core.Token
	keys    map[string]core.SigningKey
	specs   map[string]core.DialectSpec
	// writes counts successful writes, by operation.
	writes map[string]int
}

var _ core.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{clients: map[string]core.Client{}, users: map[string]core.User{},
		auths: map[int64]core.Authorization{}, tokens: map[string]core.Token{}, keys: map[string]core.SigningKey{},
		specs: map[string]core.DialectSpec{}, writes: map[string]int{}}
}

var errMemDown = fmt.Errorf("memstore: %w", core.ErrUnavailable)

// lock takes the store's lock, failing while the store is down.
func (m *memStore) lock() error {
	m.mu.Lock()
	if m.down {
		m.mu.Unlock()
		return errMemDown
	}
	return nil
}

func (m *memStore) setDown(down bool) { m.mu.Lock(); m.down = down; m.mu.Unlock() }

func (m *memStore) wrote(op string) { m.writes[op]++ }

func (m *memStore) countWrites(op string) int { m.mu.Lock(); defer m.mu.Unlock(); return m.writes[op] }

func getRecord[K comparable, V any](m *memStore, records map[K]V, id K) (*V, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	v, ok := records[id]
	if !ok {
		return nil, core.ErrNotFound
	}
	return &v, nil
}

func listRecords[K cmp.Ordered, V any](m *memStore, records map[K]V) ([]*V, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := []*V{}
	for _, k := range slices.Sorted(maps.Keys(records)) {
		v := records[k]
		out = append(out, &v)
	}
	return out, nil
}

func deleteRecord[K comparable, V any](m *memStore, op string, records map[K]V, id K) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := records[id]; !ok {
		return core.ErrNotFound
	}
	delete(records, id)
	m.wrote(op)
	return nil
}

func (m *memStore) GetClient(_ context.Context, id string) (*core.Client, error) {
	return getRecord(m, m.clients, id)
}

func (m *memStore) ListClients(context.Context) ([]*core.Client, error) {
	return listRecords(m, m.clients)
}

func (m *memStore) PutClient(_ context.Context, c *core.Client) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.clients[c.ID] = *c
	m.wrote("PutClient")
	return nil
}

func (m *memStore) DeleteClient(_ context.Context, id string) error {
	return deleteRecord(m, "DeleteClient", m.clients, id)
}

func (m *memStore) GetUser(_ context.Context, id string) (*core.User, error) {
	return getRecord(m, m.users, id)
}

func (m *memStore) GetUserByUsername(_ context.Context, username string) (*core.User, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	for _, u := range m.users {
		if username != "" && u.Username == username {
			return &u, nil
		}
	}
	return nil, core.ErrNotFound
}

func (m *memStore) ListUsers(context.Context) ([]*core.User, error) { return listRecords(m, m.users) }

func (m *memStore) PutUser(_ context.Context, u *core.User) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	for _, o := range m.users {
		if u.Username != "" && o.Username == u.Username && o.ID != u.ID {
			return core.ErrConflict
		}
	}
	m.users[u.ID] = *u
	m.wrote("PutUser")
	return nil
}

func (m *memStore) DeleteUser(_ context.Context, id string) error {
	return deleteRecord(m, "DeleteUser", m.users, id)
}

func (m *memStore) GetAuthorization(_ context.Context, id int64) (*core.Authorization, error) {
	return getRecord(m, m.auths, id)
}

func (m *memStore) ListAuthorizations(context.Context) ([]*core.Authorization, error) {
	return listRecords(m, m.auths)
}

func (m *memStore) PutAuthorization(_ context.Context, a *core.Authorization) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if a.ID == 0 {
		a.ID = m.lastID + 1
	}
	m.lastID = max(m.lastID, a.ID)
	m.auths[a.ID] = *a
	m.wrote("PutAuthorization")
	return nil
}

func (m *memStore) DeleteAuthorization(_ context.Context, id int64) error {
	return deleteRecord(m, "DeleteAuthorization", m.auths, id)
}

// insertLocked stores tokens, all or none.
func (m *memStore) insertLocked(tokens []*core.Token) error {
	seen := map[string]bool{}
	for _, t := range tokens {
		if _, ok := m.tokens[t.Digest]; ok || seen[t.Digest] {
			return core.ErrConflict
		}
		seen[t.Digest] = true
	}
	for _, t := range tokens {
		m.tokens[t.Digest] = *t
	}
	m.wrote("InsertTokens")
	return nil
}

func (m *memStore) InsertTokens(_ context.Context, tokens ...*core.Token) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	return m.insertLocked(tokens)
}

func (m *memStore) InsertTokensIfNoActive(_ context.Context, clientID, dialect string, now time.Time, tokens ...*core.Token) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	for _, t := range m.tokens {
		if t.ClientID == clientID && t.Dialect == dialect && t.Kind == core.TokenAccess && t.Active(now) {
			return core.ErrActiveToken
		}
	}
	return m.insertLocked(tokens)
}

func (m *memStore) GetToken(_ context.Context, digest string) (*core.Token, error) {
	return getRecord(m, m.tokens, digest)
}

func (m *memStore) Exchange(_ context.Context, digest string, now time.Time, successors ...*core.Token) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, ok := m.tokens[digest]
	if !ok || !t.ConsumedAt.IsZero() || !t.RevokedAt.IsZero() {
		return core.ErrConsumed
	}
	if err := m.insertLocked(successors); err != nil {
		return err
	}
	t.ConsumedAt = now
	m.tokens[digest] = t
	return nil
}

func (m *memStore) UpdateToken(_ context.Context, digest string, change func(*core.Token) error) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, ok := m.tokens[digest]
	if !ok {
		return core.ErrNotFound
	}
	if !t.ConsumedAt.IsZero() || !t.RevokedAt.IsZero() {
		return core.ErrConsumed
	}
	c := t
	if err := change(&c); err != nil {
		return err
	}
	t.UserID, t.AuthTime, t.Details = c.UserID, c.AuthTime, c.Details
	m.tokens[digest] = t
	m.wrote("update token")
	return nil
}

func (m *memStore) RevokeToken(_ context.Context, digest string, r core.Revocation) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, ok := m.tokens[digest]
	if !ok {
		return core.ErrNotFound
	}
	if t.RevokedAt.IsZero() {
		revoke(&t, r)
		m.tokens[digest] = t
	}
	return nil
}

// revoke marks t revoked as a store does, with the why in its details.
func revoke(t *core.Token, r core.Revocation) {
	t.RevokedAt, t.Details.RevokedReason, t.Details.Replayed = r.At, r.Cause, r.Replayed
}

func (m *memStore) revokeWhere(match func(*core.Token) bool, r core.Revocation) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for d, t := range m.tokens {
		if match(&t) && t.RevokedAt.IsZero() && t.ConsumedAt.IsZero() {
			revoke(&t, r)
			m.tokens[d] = t
			n++
		}
	}
	return n, nil
}

func (m *memStore) RevokeFamily(_ context.Context, familyID string, r core.Revocation) (int, error) {
	return m.revokeWhere(func(t *core.Token) bool { return familyID != "" && t.FamilyID == familyID }, r)
}

func (m *memStore) RevokeClientTokens(_ context.Context, clientID string, r core.Revocation) (int, error) {
	return m.revokeWhere(func(t *core.Token) bool { return clientID != "" && t.ClientID == clientID }, r)
}

func (m *memStore) ListTokens(_ context.Context, f core.TokenFilter) ([]*core.Token, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := []*core.Token{}
	for _, t := range m.tokens {
		if (f.ClientID == "" || t.ClientID == f.ClientID) && (f.UserID == "" || t.UserID == f.UserID) &&
			(f.Dialect == "" || t.Dialect == f.Dialect) && (f.Kind == "" || t.Kind == f.Kind) &&
			(f.FamilyID == "" || t.FamilyID == f.FamilyID) {
			out = append(out, &t)
		}
	}
	slices.SortFunc(out, func(a, b *core.Token) int {
		return cmp.Or(b.IssuedAt.Compare(a.IssuedAt), cmp.Compare(a.Digest, b.Digest))
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *memStore) DeleteExpiredTokens(_ context.Context, cutoff time.Time) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for d, t := range m.tokens {
		if t.ExpiresAt.Before(cutoff) {
			delete(m.tokens, d)
			n++
		}
	}
	return n, nil
}

func (m *memStore) DeleteAllTokens(context.Context) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	clear(m.tokens)
	m.wrote("DeleteAllTokens")
	return nil
}

func (m *memStore) PutSigningKey(_ context.Context, k *core.SigningKey) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.keys[k.ID] = *k
	m.wrote("PutSigningKey")
	return nil
}

func (m *memStore) ListSigningKeys(_ context.Context, owner string) ([]*core.SigningKey, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := []*core.SigningKey{}
	for _, k := range m.keys {
		if k.Dialect == owner {
			out = append(out, &k)
		}
	}
	slices.SortFunc(out, func(a, b *core.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (m *memStore) InsertDialectSpec(_ context.Context, s *core.DialectSpec) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, dup := m.specs[s.Name]; dup {
		return core.ErrConflict
	}
	m.specs[s.Name] = *s
	m.wrote("InsertDialectSpec")
	return nil
}

func (m *memStore) ListDialectSpecs(context.Context) ([]*core.DialectSpec, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := []*core.DialectSpec{}
	for _, s := range m.specs {
		out = append(out, &s)
	}
	slices.SortFunc(out, func(a, b *core.DialectSpec) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func (m *memStore) DeleteDialectSpec(_ context.Context, name string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.specs[name]; !ok {
		return core.ErrNotFound
	}
	delete(m.specs, name)
	m.wrote("DeleteDialectSpec")
	return nil
}

func (m *memStore) Close() error { return nil }
