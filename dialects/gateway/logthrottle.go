package gateway

import (
	"sync"
	"time"

	"github.com/tokengate/tokengate/core"
)

// Bounds of what one client can make the gateway log. Every value a client
// chose (client id, grant type, the path of an unrouted request, method,
// error id) is cut to LogValueBytes, and access log lines of failed
// requests (status 400 and up) are rate-limited per source address and
// kind (status and error kind): LogBurst lines, then LogPerSecond. When
// lines were held back, the next one of that kind is preceded by a
// "suppressed similar log lines" line with their count. At most LogSources
// (source, kind) pairs are tracked; beyond that, new pairs share one
// bucket per kind, so many sources together are bounded too.
const (
	LogValueBytes = 64
	LogBurst      = 20
	LogPerSecond  = 1.0
	LogSources    = 4096
)

// LineThrottle is the token buckets of log lines per (source, kind), with
// the gateway's bounds (LogBurst, LogPerSecond, LogSources). The gateway
// throttles its access log with one; the app its server's error log.
type LineThrottle struct {
	burst, perSecond float64
	max              int
	now              func() time.Time // the wall clock

	mu      sync.Mutex
	buckets map[lineKey]*lineBucket
	pruned  time.Time
}

type lineKey struct{ source, kind string }

type lineBucket struct {
	tokens     float64
	at         time.Time
	suppressed int
}

// overflow is the source of the shared buckets used once LogSources pairs
// are tracked.
const overflow = "*"

// NewLineThrottle builds a throttle reading wall (nil: the system clock).
func NewLineThrottle(wall core.Clock) *LineThrottle {
	if wall == nil {
		wall = core.SystemClock{}
	}
	return &LineThrottle{burst: LogBurst, perSecond: LogPerSecond, max: LogSources, now: wall.Now,
		buckets: map[lineKey]*lineBucket{}}
}

// Allow reports whether a line of kind from source may be written and, if
// so, how many lines of that kind were held back before it.
func (t *LineThrottle) Allow(source, kind string) (ok bool, suppressed int) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	k := lineKey{source, kind}
	b := t.buckets[k]
	if b == nil {
		if len(t.buckets) >= t.max {
			t.prune(now)
		}
		if len(t.buckets) >= t.max {
			k.source = overflow
			b = t.buckets[k]
		}
		if b == nil {
			b = &lineBucket{tokens: t.burst, at: now}
			t.buckets[k] = b
		}
	}
	b.tokens = min(t.burst, b.tokens+now.Sub(b.at).Seconds()*t.perSecond)
	b.at = now
	if b.tokens < 1 {
		b.suppressed++
		return false, 0
	}
	b.tokens--
	suppressed, b.suppressed = b.suppressed, 0
	return true, suppressed
}

// prune forgets pairs whose bucket has refilled (and any count of held-back lines), at
// most once a second: a full map costs one scan per second, not per line.
func (t *LineThrottle) prune(now time.Time) {
	if now.Sub(t.pruned) < time.Second {
		return
	}
	t.pruned = now
	for k, b := range t.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*t.perSecond >= t.burst {
			delete(t.buckets, k)
		}
	}
}
