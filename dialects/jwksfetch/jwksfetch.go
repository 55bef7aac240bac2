// Package jwksfetch reads the JWK Sets clients publish at their jwks_uri:
// core.JWKSFetcher over HTTP, with a timeout, a size cap and a cache. It
// belongs to the wire side because core makes no HTTP requests.
package jwksfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tokengate/tokengate/core"
)

// Defaults of a Fetcher.
const (
	DefaultTimeout = 5 * time.Second
	DefaultMaxSize = 64 << 10
	DefaultTTL     = 5 * time.Minute
	// DefaultMinRefetch bounds how often a key miss may refetch one URI.
	DefaultMinRefetch = 10 * time.Second
)

// Fetcher implements core.JWKSFetcher. The zero value is not usable; use New.
type Fetcher struct {
	client     *http.Client
	maxSize    int64
	ttl        time.Duration
	minRefetch time.Duration
	now        func() time.Time // the wall clock: the cache guards the network, it decides no expiry

	mu      sync.Mutex
	entries map[string]entry
	group   singleflight.Group
}

type entry struct {
	body      []byte
	fetchedAt time.Time
}

var _ core.JWKSFetcher = (*Fetcher)(nil)

// Options adjust New; zero fields take the defaults.
type Options struct {
	Client     *http.Client // default: one with Timeout
	Timeout    time.Duration
	MaxSize    int64
	TTL        time.Duration
	MinRefetch time.Duration
	Now        func() time.Time
}

// New returns a Fetcher.
func New(o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MinRefetch <= 0 {
		o.MinRefetch = DefaultMinRefetch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Fetcher{client: o.Client, maxSize: o.MaxSize, ttl: o.TTL, minRefetch: o.MinRefetch, now: o.Now,
		entries: map[string]entry{}}
}

// Fetch returns the JWK Set at uri: from the cache while it is younger than
// the TTL (or, when fresh asks to bypass it, younger than MinRefetch), else
// from the network, one request per URI at a time.
func (f *Fetcher) Fetch(ctx context.Context, uri string, fresh bool) ([]byte, error) {
	now := f.now()
	f.mu.Lock()
	e, ok := f.entries[uri]
	f.mu.Unlock()
	maxAge := f.ttl
	if fresh {
		maxAge = f.minRefetch
	}
	if ok && now.Sub(e.fetchedAt) < maxAge && !now.Before(e.fetchedAt) {
		return e.body, nil
	}
	v, err, _ := f.group.Do(uri, func() (any, error) { return f.get(ctx, uri) })
	if err != nil {
		return nil, err
	}
	body := v.([]byte)
	f.mu.Lock()
	f.entries[uri] = entry{body: body, fetchedAt: now}
	f.mu.Unlock()
	return body, nil
}

var errTooLarge = errors.New("the JWK Set is too large")

func (f *Fetcher) get(ctx context.Context, uri string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", uri, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.maxSize {
		return nil, errTooLarge
	}
	return body, nil
}
