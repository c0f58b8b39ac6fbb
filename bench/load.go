package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig is one closed-loop measurement: Clients goroutines, each with
// its own keep-alive connection, send one request after the other for
// Warmup (not recorded), then for Duration (every latency recorded).
type loadConfig struct {
	URLs     []string // requested in turn by all the clients together
	Clients  int
	Warmup   time.Duration
	Duration time.Duration
}

// requestTimeout is how long one request of a measurement may take.
const requestTimeout = 30 * time.Second

// loadResult is what a measurement saw, in its recorded part.
type loadResult struct {
	Clients   int     `json:"clients"`
	Seconds   float64 `json:"seconds"`
	Requests  int     `json:"requests"` // answered, whatever the status
	Errors    int     `json:"errors"`   // no answer: connection or timeout errors
	Non200    int     `json:"non_200"`  // answered with another status than 200
	Bytes     int64   `json:"bytes"`    // body bytes of all the answers
	ReqPerSec float64 `json:"req_per_s"`
	P50Ms     float64 `json:"p50_ms"`
	P90Ms     float64 `json:"p90_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	FirstErr  string  `json:"first_error,omitempty"`
}

// clientPart is what one client recorded.
type clientPart struct {
	lat      []time.Duration
	errs     int
	non200   int
	bytes    int64
	firstErr error
}

// runLoad runs the measurement c describes against the server. It fails
// only if ctx ends; failed requests are counted, not returned.
func runLoad(ctx context.Context, c loadConfig) (loadResult, error) {
	if len(c.URLs) == 0 || c.Clients < 1 || c.Duration <= 0 {
		return loadResult{}, errors.New("load: no URL, client or duration")
	}
	var next atomic.Uint64
	start := time.Now()
	from := start.Add(c.Warmup)
	end := from.Add(c.Duration)
	parts := make([]clientPart, c.Clients)
	var last atomic.Int64 // the latest end of a recorded request, in ns since from
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &parts[i]
			tr := &http.Transport{
				Proxy:               nil,
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 1,
				DisableCompression:  true, // the bytes as the server writes them, as wrk asks for them
			}
			defer tr.CloseIdleConnections()
			client := &http.Client{
				Transport:     tr,
				Timeout:       requestTimeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			p.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				u := c.URLs[(next.Add(1)-1)%uint64(len(c.URLs))]
				status, n, err := get(ctx, client, u)
				t1 := time.Now()
				if t0.Before(from) {
					continue
				}
				if d := int64(t1.Sub(from)); d > last.Load() {
					for {
						old := last.Load()
						if d <= old || last.CompareAndSwap(old, d) {
							break
						}
					}
				}
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					p.errs++
					if p.firstErr == nil {
						p.firstErr = err
					}
					continue
				}
				p.lat = append(p.lat, t1.Sub(t0))
				p.bytes += n
				if status != http.StatusOK {
					p.non200++
					if p.firstErr == nil {
						p.firstErr = fmt.Errorf("GET %s: status %d", u, status)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}
	return summarize(parts, max(time.Duration(last.Load()), c.Duration)), nil
}

// summarize adds up what the clients recorded over elapsed: the end of
// the last recorded request, or the duration asked for if longer.
func summarize(parts []clientPart, elapsed time.Duration) loadResult {
	var all []time.Duration
	res := loadResult{Clients: len(parts)}
	for _, p := range parts {
		all = append(all, p.lat...)
		res.Errors += p.errs
		res.Non200 += p.non200
		res.Bytes += p.bytes
		if p.firstErr != nil && res.FirstErr == "" {
			res.FirstErr = p.firstErr.Error()
		}
	}
	res.Seconds = elapsed.Seconds()
	res.Requests = len(all)
	res.ReqPerSec = float64(res.Requests-res.Non200) / res.Seconds
	slices.Sort(all)
	res.P50Ms = ms(percentile(all, 50))
	res.P90Ms = ms(percentile(all, 90))
	res.P99Ms = ms(percentile(all, 99))
	res.MaxMs = ms(percentile(all, 100))
	return res
}

// get requests u and reads the whole body, so that the connection is kept
// for the next request.
func get(ctx context.Context, c *http.Client, u string) (status int, n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return resp.StatusCode, n, err
}

// percentile returns the p-th percentile (0 to 100) of sorted by the
// nearest-rank method: the smallest value that at least p % of the values
// are at or under. It returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The rank, 1-based: p×n is exact for a whole p, and so is its
	// division by 100 when it is a multiple of 100.
	rank := int(math.Ceil(p * float64(n) / 100))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
