package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A Limiter allows events per key (an address, a login, a page) at a
// steady rate with bursts, and bounds its own memory: keys whose allowance
// is full again are forgotten, and past MaxKeys new keys are refused until
// some are. It is safe for concurrent use.
type Limiter struct {
	every   time.Duration
	burst   int
	maxKeys int
	now     func() time.Time

	mu        sync.Mutex // guards keys and lastSweep
	keys      map[string]*rate.Limiter
	lastSweep time.Time
}

// DefaultMaxKeys is the number of keys a Limiter remembers at most.
const DefaultMaxKeys = 50000

// NewLimiter returns a limiter that allows burst events at once per key,
// then one every every.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{
		every:   every,
		burst:   burst,
		maxKeys: DefaultMaxKeys,
		now:     time.Now,
		keys:    map[string]*rate.Limiter{},
	}
}

// Allow reports whether one more event for key may happen now, and counts
// it if so.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.maxKeys || now.Sub(l.lastSweep) > 10*time.Minute {
			l.sweep(now)
		}
		if len(l.keys) >= l.maxKeys {
			return false
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.keys[key] = lim
	}
	return lim.AllowN(now, 1)
}

// sweep forgets the keys whose allowance is full: they carry no state.
func (l *Limiter) sweep(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
	l.lastSweep = now
}
