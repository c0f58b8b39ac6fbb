package delivery

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// minPerChunk is the fewest jobs worth a connection of their own when a
// destination has many.
const minPerChunk = 20

// maxWait bounds the dispatcher's sleep, so a clock that jumps is noticed.
const maxWait = time.Hour

// outcome is what a worker tells the completer about one job.
type outcome struct {
	rec     *record // the job as dispatched (its key is rec.key())
	release bool    // not attempted: only forget that it is in flight
	final   bool    // the job ends: delivered or failed for good
	res     Result  // for a final outcome
	next    *record // for a retry: the job as it must be stored again
}

// chunk is a batch of jobs for one destination, handled by one worker over
// one connection.
type chunk struct {
	relay  Relay
	domain string // the MX way's recipient domain
	jobs   []*record
}

// Run sends the queued jobs until ctx is done, resuming what a previous run
// left. It returns once its workers stopped and what they did is committed.
// Run is meant to run once at a time; a second Run while one is going
// returns at once.
func (q *Queue) Run(ctx context.Context) {
	if !q.running.CompareAndSwap(false, true) {
		q.log.Error("delivery_run_already_running")
		return
	}
	defer q.running.Store(false)

	done := make(chan outcome, 1024)
	completed := make(chan struct{})
	go func() {
		defer close(completed)
		q.complete(done)
	}()
	var wg sync.WaitGroup
	q.dispatch(ctx, done, &wg)
	wg.Wait()
	close(done)
	<-completed
}

// dispatch hands due jobs to workers until ctx is done.
func (q *Queue) dispatch(ctx context.Context, done chan<- outcome, wg *sync.WaitGroup) {
	sem := make(chan struct{}, q.conc)
	limit := 2 * q.conc * maxPerConnection
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	for ctx.Err() == nil {
		jobs, next, more, err := q.scan(limit)
		if err != nil {
			q.log.Error("delivery_scan_failed", "error", err)
			next, more = q.now().Add(time.Minute), false
		}
		chunks := q.plan(q.relay(), jobs)
		for i, c := range chunks {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, c := range chunks[i:] {
					q.forget(c.jobs)
				}
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				q.work(ctx, c, done)
			}()
		}
		if more {
			continue
		}
		wait := maxWait
		if !next.IsZero() {
			wait = min(max(next.Sub(q.now()), 0), maxWait)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// relay returns the current relay settings.
func (q *Queue) relay() Relay {
	if q.cfg.Relay == nil {
		return Relay{Way: Outbox}
	}
	return q.cfg.Relay()
}

// scan returns up to limit due jobs that are not in flight, marking them in
// flight, the time the next other job is due (zero if none) and whether
// more due jobs are left.
func (q *Queue) scan(limit int) (jobs []*record, next time.Time, more bool, err error) {
	now := uint64(max(q.now().UnixNano(), 0))
	q.mu.Lock()
	defer q.mu.Unlock()
	err = q.cfg.DB.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(queueBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 16 {
				continue
			}
			if t := binary.BigEndian.Uint64(k); t > now {
				next = time.Unix(0, int64(t))
				return nil
			}
			if _, busy := q.inflight[binary.BigEndian.Uint64(k[8:])]; busy {
				continue
			}
			if len(jobs) == limit {
				more = true
				return nil
			}
			r := new(record)
			if err := json.Unmarshal(v, r); err != nil {
				// A job that cannot be read cannot be sent; keep it for a
				// person to look at rather than lose it silently.
				q.log.Error("delivery_bad_job", "key", fmt.Sprintf("%x", k), "error", err)
				continue
			}
			jobs = append(jobs, r)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("scan the queue: %w", err)
	}
	for _, r := range jobs {
		q.inflight[r.ID] = struct{}{}
	}
	return jobs, next, more, nil
}

// forget drops the in-flight marks of jobs.
func (q *Queue) forget(jobs []*record) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range jobs {
		delete(q.inflight, r.ID)
	}
}

// plan groups jobs by destination and splits the groups in chunks of at
// most maxPerConnection jobs, spread over the workers.
func (q *Queue) plan(relay Relay, jobs []*record) []chunk {
	groups := make(map[string][]*record)
	var order []string
	for _, r := range jobs {
		key := string(relay.Way)
		if relay.Way == MX {
			key = rcptDomain(r.To)
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], r)
	}
	var chunks []chunk
	for _, key := range order {
		g := groups[key]
		// Spread a big group over the workers (several connections to
		// one host), but keep small ones on one connection.
		size := min(maxPerConnection, max(minPerChunk, (len(g)+q.conc-1)/q.conc))
		for len(g) > 0 {
			n := min(size, len(g))
			c := chunk{relay: relay, jobs: g[:n:n]}
			if relay.Way == MX {
				c.domain = key
			}
			chunks = append(chunks, c)
			g = g[n:]
		}
	}
	return chunks
}

// rcptDomain returns the domain of address a, in lower case.
func rcptDomain(a string) string {
	return normDomain(a[strings.LastIndexByte(a, '@')+1:])
}

// work handles one chunk, telling done how each job went.
func (q *Queue) work(ctx context.Context, c chunk, done chan<- outcome) {
	switch c.relay.Way {
	case Smarthost, MX:
		q.workSMTP(ctx, c, done)
	default:
		q.workOutbox(ctx, c, done)
	}
}

// attempt is how one try of a job went.
type attempt struct {
	err       error // nil when delivered
	permanent bool  // the failure will not change by retrying
	code      int
	enhanced  string
}

// settle returns the outcome of rec after try, at now.
func (q *Queue) settle(rec *record, try attempt, now time.Time) outcome {
	res := Result{Job: rec.job(), Code: try.code, Enhanced: try.enhanced}
	if try.err == nil {
		res.Delivered = true
		return outcome{rec: rec, final: true, res: res}
	}
	res.Message = oneLine(try.err.Error())
	if try.permanent || now.Sub(rec.Created) >= q.giveUp {
		return outcome{rec: rec, final: true, res: res}
	}
	next := *rec
	next.Attempts++
	next.Next = now.Add(q.retry[min(next.Attempts, len(q.retry))-1]).UTC()
	next.Code, next.Enhanced, next.Error = try.code, try.enhanced, res.Message
	return outcome{rec: rec, next: &next}
}

// oneLine returns s on one line, at most 500 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// complete writes the outcomes to the database in batches, then reports
// the jobs that ended, until done is closed.
func (q *Queue) complete(done <-chan outcome) {
	for o := range done {
		batch := []outcome{o}
	drain:
		for len(batch) < 1000 {
			select {
			case o, ok := <-done:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		q.commit(batch)
	}
}

// commit applies batch to the database, forgets its jobs' in-flight marks
// and reports the ended jobs.
func (q *Queue) commit(batch []outcome) {
	rescheduled := false
	err := q.cfg.DB.Batch(func(tx *bolt.Tx) error {
		qb, mb := tx.Bucket(queueBucket), tx.Bucket(outmsgBucket)
		left := make(map[uint64]uint64) // message id → jobs left, as updated in this batch
		for _, o := range batch {
			if o.release {
				continue
			}
			if err := qb.Delete(o.rec.key()); err != nil {
				return err
			}
			if o.next != nil {
				v, err := json.Marshal(o.next)
				if err != nil {
					return err
				}
				if err := qb.Put(o.next.key(), v); err != nil {
					return err
				}
				continue
			}
			n, ok := left[o.rec.Msg]
			if !ok {
				if v := mb.Get(msgKey(o.rec.Msg, 'n')); len(v) == 8 {
					n = binary.BigEndian.Uint64(v)
				}
			}
			if n > 0 {
				n--
			}
			left[o.rec.Msg] = n
		}
		for seq, n := range left {
			if n == 0 {
				if err := mb.Delete(msgKey(seq, 'm')); err != nil {
					return err
				}
				if err := mb.Delete(msgKey(seq, 'n')); err != nil {
					return err
				}
				continue
			}
			if err := mb.Put(msgKey(seq, 'n'), u64(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The jobs stay as they were and are tried again: a delivered copy
		// may go twice, none is lost.
		q.log.Error("delivery_commit_failed", "jobs", len(batch), "error", err)
	}
	ids := make([]*record, len(batch))
	for i, o := range batch {
		ids[i] = o.rec
		if o.next != nil {
			rescheduled = true
		}
	}
	q.forget(ids)
	if err != nil {
		q.Kick()
		return
	}
	if rescheduled {
		q.Kick()
	}
	for _, o := range batch {
		if o.final && q.cfg.Report != nil {
			q.cfg.Report(o.res)
		}
	}
}

// message returns the bytes of message seq, from cache when there.
func (q *Queue) message(seq uint64, cache map[uint64][]byte) ([]byte, error) {
	if m, ok := cache[seq]; ok {
		return m, nil
	}
	var m []byte
	err := q.cfg.DB.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(outmsgBucket).Get(msgKey(seq, 'm'))
		if v == nil {
			return errMissingMessage
		}
		m = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("message %d: %w", seq, err)
	}
	cache[seq] = m
	return m, nil
}

// errMissingMessage says a job's message is not in list/outmsg.
var errMissingMessage = errors.New("the message is missing from the queue")

// compose returns the copy of rec to send: its header fields, the shared
// message, signed for its domain.
func (q *Queue) compose(rec *record, cache map[uint64][]byte) ([]byte, attempt) {
	msg, err := q.message(rec.Msg, cache)
	if err != nil {
		return nil, attempt{err: err, permanent: errors.Is(err, errMissingMessage)}
	}
	n := len(msg)
	for _, h := range rec.Headers {
		n += len(h) + 2
	}
	data := make([]byte, 0, n)
	for _, h := range rec.Headers {
		data = append(data, h...)
		data = append(data, '\r', '\n')
	}
	data = append(data, msg...)
	if rec.Domain == "" || q.cfg.Keys == nil {
		return data, attempt{}
	}
	s, err := q.cfg.Keys.Signer(rec.Domain)
	if err == nil {
		data, err = s.Sign(data)
	}
	if err != nil {
		// A signing failure is ours (the database, a key): retry later.
		q.log.Error("delivery_sign_failed", "domain", rec.Domain, "error", err)
		return nil, attempt{err: err}
	}
	return data, attempt{}
}
