// Package observed wraps any core.Store so that a core.StoreObserver is
// told each operation's latency and failures (metrics). The observer of
// every operation is resolved once, when the store is wrapped.
package observed

import (
	"context"
	"time"

	"github.com/tokengate/tokengate/core"
)

// ops are the operations' observers, one per Store method.
type ops struct {
	getClient, listClients, putClient, deleteClient                        core.OpObserver
	getUser, getUserByUsername, listUsers, putUser, deleteUser             core.OpObserver
	getAuthorization, listAuthorizations, putAuthorization, deleteAuthz    core.OpObserver
	insertTokens, insertTokensIfNoActive, getToken, exchange, revokeToken  core.OpObserver
	updateToken                                                            core.OpObserver
	revokeFamily, revokeClientTokens, listTokens, deleteExpired, deleteAll core.OpObserver
	putSigningKey, listSigningKeys                                         core.OpObserver
	insertDialectSpec, listDialectSpecs, deleteDialectSpec                 core.OpObserver
	controlVersion, getControl, putControl, ensureControl                  core.OpObserver
	hit, counters, resetCounters                                           core.OpObserver
}

// Store is a core.Store whose operations are observed.
type Store struct {
	s core.Store
	o ops
}

// ControlStore is a Store whose store is also a core.ControlStore, with
// the control operations observed too.
type ControlStore struct {
	*Store
	cs core.ControlStore
}

// Wrap returns s with every operation observed by obs: a *ControlStore when
// s is a core.ControlStore (so type assertions for it still work), else a
// *Store.
func Wrap(s core.Store, obs core.StoreObserver) core.Store {
	w := &Store{s: s, o: ops{
		getClient: obs.Op("GetClient"), listClients: obs.Op("ListClients"), putClient: obs.Op("PutClient"),
		deleteClient: obs.Op("DeleteClient"), getUser: obs.Op("GetUser"), getUserByUsername: obs.Op("GetUserByUsername"),
		listUsers: obs.Op("ListUsers"), putUser: obs.Op("PutUser"), deleteUser: obs.Op("DeleteUser"),
		getAuthorization: obs.Op("GetAuthorization"), listAuthorizations: obs.Op("ListAuthorizations"),
		putAuthorization: obs.Op("PutAuthorization"), deleteAuthz: obs.Op("DeleteAuthorization"),
		insertTokens: obs.Op("InsertTokens"), insertTokensIfNoActive: obs.Op("InsertTokensIfNoActive"),
		getToken: obs.Op("GetToken"), exchange: obs.Op("Exchange"), revokeToken: obs.Op("RevokeToken"),
		updateToken:  obs.Op("UpdateToken"),
		revokeFamily: obs.Op("RevokeFamily"), revokeClientTokens: obs.Op("RevokeClientTokens"),
		listTokens: obs.Op("ListTokens"), deleteExpired: obs.Op("DeleteExpiredTokens"), deleteAll: obs.Op("DeleteAllTokens"),
		putSigningKey: obs.Op("PutSigningKey"), listSigningKeys: obs.Op("ListSigningKeys"),
		insertDialectSpec: obs.Op("InsertDialectSpec"), listDialectSpecs: obs.Op("ListDialectSpecs"),
		deleteDialectSpec: obs.Op("DeleteDialectSpec"),
	}}
	cs, ok := s.(core.ControlStore)
	if !ok {
		return w
	}
	w.o.controlVersion, w.o.getControl, w.o.putControl = obs.Op("ControlVersion"), obs.Op("GetControl"), obs.Op("PutControl")
	w.o.ensureControl, w.o.hit = obs.Op("EnsureControl"), obs.Op("Hit")
	w.o.counters, w.o.resetCounters = obs.Op("Counters"), obs.Op("ResetCounters")
	return &ControlStore{Store: w, cs: cs}
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() core.Store { return s.s }

func (s *Store) GetClient(ctx context.Context, id string) (*core.Client, error) {
	start := time.Now()
	v, err := s.s.GetClient(ctx, id)
	s.o.getClient.Done(time.Since(start), err)
	return v, err
}

func (s *Store) ListClients(ctx context.Context) ([]*core.Client, error) {
	start := time.Now()
	v, err := s.s.ListClients(ctx)
	s.o.listClients.Done(time.Since(start), err)
	return v, err
}

func (s *Store) PutClient(ctx context.Context, c *core.Client) error {
	start := time.Now()
	err := s.s.PutClient(ctx, c)
	s.o.putClient.Done(time.Since(start), err)
	return err
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	start := time.Now()
	err := s.s.DeleteClient(ctx, id)
	s.o.deleteClient.Done(time.Since(start), err)
	return err
}

func (s *Store) GetUser(ctx context.Context, id string) (*core.User, error) {
	start := time.Now()
	v, err := s.s.GetUser(ctx, id)
	s.o.getUser.Done(time.Since(start), err)
	return v, err
}

func (s *Store) GetUserByUsername(ctx context.Context, username string) (*core.User, error) {
	start := time.Now()
	v, err := s.s.GetUserByUsername(ctx, username)
	s.o.getUserByUsername.Done(time.Since(start), err)
	return v, err
}

func (s *Store) ListUsers(ctx context.Context) ([]*core.User, error) {
	start := time.Now()
	v, err := s.s.ListUsers(ctx)
	s.o.listUsers.Done(time.Since(start), err)
	return v, err
}

func (s *Store) PutUser(ctx context.Context, u *core.User) error {
	start := time.Now()
	err := s.s.PutUser(ctx, u)
	s.o.putUser.Done(time.Since(start), err)
	return err
}

func (s *Store) DeleteUser(ctx context.Context, id string) error {
	start := time.Now()
	err := s.s.DeleteUser(ctx, id)
	s.o.deleteUser.Done(time.Since(start), err)
	return err
}

func (s *Store) GetAuthorization(ctx context.Context, id int64) (*core.Authorization, error) {
	start := time.Now()
	v, err := s.s.GetAuthorization(ctx, id)
	s.o.getAuthorization.Done(time.Since(start), err)
	return v, err
}

func (s *Store) ListAuthorizations(ctx context.Context) ([]*core.Authorization, error) {
	start := time.Now()
	v, err := s.s.ListAuthorizations(ctx)
	s.o.listAuthorizations.Done(time.Since(start), err)
	return v, err
}

func (s *Store) PutAuthorization(ctx context.Context, a *core.Authorization) error {
	start := time.Now()
	err := s.s.PutAuthorization(ctx, a)
	s.o.putAuthorization.Done(time.Since(start), err)
	return err
}

func (s *Store) DeleteAuthorization(ctx context.Context, id int64) error {
	start := time.Now()
	err := s.s.DeleteAuthorization(ctx, id)
	s.o.deleteAuthz.Done(time.Since(start), err)
	return err
}

func (s *Store) InsertTokens(ctx context.Context, tokens ...*core.Token) error {
	start := time.Now()
	err := s.s.InsertTokens(ctx, tokens...)
	s.o.insertTokens.Done(time.Since(start), err)
	return err
}

func (s *Store) InsertTokensIfNoActive(ctx context.Context, clientID, dialect string, now time.Time, tokens ...*core.Token) error {
	start := time.Now()
	err := s.s.InsertTokensIfNoActive(ctx, clientID, dialect, now, tokens...)
	s.o.insertTokensIfNoActive.Done(time.Since(start), err)
	return err
}

func (s *Store) GetToken(ctx context.Context, digest string) (*core.Token, error) {
	start := time.Now()
	v, err := s.s.GetToken(ctx, digest)
	s.o.getToken.Done(time.Since(start), err)
	return v, err
}

func (s *Store) Exchange(ctx context.Context, digest string, now time.Time, successors ...*core.Token) error {
	start := time.Now()
	err := s.s.Exchange(ctx, digest, now, successors...)
	s.o.exchange.Done(time.Since(start), err)
	return err
}

func (s *Store) UpdateToken(ctx context.Context, digest string, change func(*core.Token) error) error {
	start := time.Now()
	err := s.s.UpdateToken(ctx, digest, change)
	s.o.updateToken.Done(time.Since(start), err)
	return err
}

func (s *Store) RevokeToken(ctx context.Context, digest string, r core.Revocation) error {
	start := time.Now()
	err := s.s.RevokeToken(ctx, digest, r)
	s.o.revokeToken.Done(time.Since(start), err)
	return err
}

func (s *Store) RevokeFamily(ctx context.Context, familyID string, r core.Revocation) (int, error) {
	start := time.Now()
	v, err := s.s.RevokeFamily(ctx, familyID, r)
	s.o.revokeFamily.Done(time.Since(start), err)
	return v, err
}

func (s *Store) RevokeClientTokens(ctx context.Context, clientID string, r core.Revocation) (int, error) {
	start := time.Now()
	v, err := s.s.RevokeClientTokens(ctx, clientID, r)
	s.o.revokeClientTokens.Done(time.Since(start), err)
	return v, err
}

func (s *Store) ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, error) {
	start := time.Now()
	v, err := s.s.ListTokens(ctx, f)
	s.o.listTokens.Done(time.Since(start), err)
	return v, err
}

func (s *Store) DeleteExpiredTokens(ctx context.Context, cutoff time.Time) (int, error) {
	start := time.Now()
	v, err := s.s.DeleteExpiredTokens(ctx, cutoff)
	s.o.deleteExpired.Done(time.Since(start), err)
	return v, err
}

func (s *Store) DeleteAllTokens(ctx context.Context) error {
	start := time.Now()
	err := s.s.DeleteAllTokens(ctx)
	s.o.deleteAll.Done(time.Since(start), err)
	return err
}

func (s *Store) PutSigningKey(ctx context.Context, k *core.SigningKey) error {
	start := time.Now()
	err := s.s.PutSigningKey(ctx, k)
	s.o.putSigningKey.Done(time.Since(start), err)
	return err
}

func (s *Store) ListSigningKeys(ctx context.Context, owner string) ([]*core.SigningKey, error) {
	start := time.Now()
	v, err := s.s.ListSigningKeys(ctx, owner)
	s.o.listSigningKeys.Done(time.Since(start), err)
	return v, err
}

func (s *Store) InsertDialectSpec(ctx context.Context, d *core.DialectSpec) error {
	start := time.Now()
	err := s.s.InsertDialectSpec(ctx, d)
	s.o.insertDialectSpec.Done(time.Since(start), err)
	return err
}

func (s *Store) ListDialectSpecs(ctx context.Context) ([]*core.DialectSpec, error) {
	start := time.Now()
	v, err := s.s.ListDialectSpecs(ctx)
	s.o.listDialectSpecs.Done(time.Since(start), err)
	return v, err
}

func (s *Store) DeleteDialectSpec(ctx context.Context, name string) error {
	start := time.Now()
	err := s.s.DeleteDialectSpec(ctx, name)
	s.o.deleteDialectSpec.Done(time.Since(start), err)
	return err
}

// Close closes the wrapped store.
func (s *Store) Close() error { return s.s.Close() }

func (s *ControlStore) ControlVersion(ctx context.Context) (int64, error) {
	start := time.Now()
	v, err := s.cs.ControlVersion(ctx)
	s.o.controlVersion.Done(time.Since(start), err)
	return v, err
}

func (s *ControlStore) GetControl(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	v, err := s.cs.GetControl(ctx, key)
	s.o.getControl.Done(time.Since(start), err)
	return v, err
}

func (s *ControlStore) PutControl(ctx context.Context, key string, value []byte) error {
	start := time.Now()
	err := s.cs.PutControl(ctx, key, value)
	s.o.putControl.Done(time.Since(start), err)
	return err
}

func (s *ControlStore) EnsureControl(ctx context.Context, key string, value []byte) ([]byte, error) {
	start := time.Now()
	v, err := s.cs.EnsureControl(ctx, key, value)
	s.o.ensureControl.Done(time.Since(start), err)
	return v, err
}

func (s *ControlStore) Hit(ctx context.Context, key string, limit int64) (bool, error) {
	start := time.Now()
	v, err := s.cs.Hit(ctx, key, limit)
	s.o.hit.Done(time.Since(start), err)
	return v, err
}

func (s *ControlStore) Counters(ctx context.Context, prefix string) (map[string]int64, error) {
	start := time.Now()
	v, err := s.cs.Counters(ctx, prefix)
	s.o.counters.Done(time.Since(start), err)
	return v, err
}

func (s *ControlStore) ResetCounters(ctx context.Context, prefix string) error {
	start := time.Now()
	err := s.cs.ResetCounters(ctx, prefix)
	s.o.resetCounters.Done(time.Since(start), err)
	return err
}

var (
	_ core.Store        = (*Store)(nil)
	_ core.ControlStore = (*ControlStore)(nil)
)
