package push

import (
	"context"
	"sync"
)

// Stream is one client's ordered view of the events it may see: first
// those it missed (replayed from the outbox), then a ready message, then
// live events, with no gap and no duplicate at the seam.
//
// The seam works because the stream subscribes before it reads the outbox:
// an event committed before the read is replayed, one committed after it
// is delivered live, and one that is both (delivered while the replay ran)
// is dropped by its number, which is at or below the stream's cursor.
//
// A Stream is read by one goroutine (the connection's writer); the hub's
// dispatcher pushes into it.
type Stream struct {
	hub *Hub
	aud Audience
	// cursor is the last number of the audience's sequence the client has
	// been given (or skipped as not its to see).
	cursor int64
	// head is the last number of the sequence when the stream subscribed:
	// a replay must find every event up to it, or some were purged.
	head      int64
	readyDue  bool
	resync    bool
	replaying bool // guarded by mu for writes; read freely by the reader

	mu       sync.Mutex
	queue    []*Message
	overflow bool  // the queue overflowed while replaying: replay again
	err      error // why the stream ended
	signal   chan struct{}
	removed  bool
}

// Subscribe opens a stream for aud. With resume, the client last saw
// number after of its sequence (the merchant's for staff, the wallet's for
// customers) and gets everything it may see after it first; without, it
// starts from the present. Close it when the client goes.
func (h *Hub) Subscribe(ctx context.Context, aud Audience, after int64, resume bool) (*Stream, error) {
	// Until the outbox is read, a full queue means "replay again", never
	// "too slow".
	s := &Stream{hub: h, aud: aud, signal: make(chan struct{}, 1), readyDue: true, replaying: true}
	// Subscribe first, read the outbox second: see the type's comment.
	if err := h.add(s); err != nil {
		return nil, err
	}
	last, err := h.ob.LastSeq(ctx, aud)
	if err != nil {
		h.remove(s)
		return nil, err
	}
	s.head = last
	replay := false
	switch {
	case !resume:
		s.cursor = last
	case after > last:
		// The client has numbers the server never gave: its history was
		// reset (a new database). Start afresh and say so.
		s.cursor, s.resync = last, true
	case last-after > h.cfg.MaxReplay:
		s.cursor, s.resync = last, true
	default:
		s.cursor, replay = after, true
	}
	if !replay {
		s.mu.Lock()
		s.replaying, s.overflow = false, false
		s.mu.Unlock()
	}
	return s, nil
}

// Audience returns who the stream is for.
func (s *Stream) Audience() Audience { return s.aud }

// Wait returns a channel that receives when Next may have something new.
func (s *Stream) Wait() <-chan struct{} { return s.signal }

// Close unsubscribes the stream.
func (s *Stream) Close() {
	s.mu.Lock()
	removed := s.removed
	s.removed = true
	s.mu.Unlock()
	if !removed {
		s.hub.remove(s)
	}
}

// Err returns why the stream ended, nil while it runs.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// fail ends the stream with err (the first reason wins).
func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err, s.queue = err, nil
	}
	s.mu.Unlock()
	s.notify()
}

func (s *Stream) notify() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// push queues a live event. A live stream whose queue is full is cut off;
// one still replaying forgets its queue and replays again from the outbox,
// where everything it dropped is.
func (s *Stream) push(m *Message) {
	s.mu.Lock()
	switch {
	case s.err != nil:
	case len(s.queue) < s.hub.cfg.QueueSize:
		s.queue = append(s.queue, m)
	case s.replaying:
		s.overflow, s.queue = true, nil
	default:
		s.err, s.queue = ErrSlowConsumer, nil
	}
	s.mu.Unlock()
	s.notify()
}

// replayPage is how many events one replay read returns.
const replayPage = 256

// Next returns the messages to send now, encoded for the audience, in
// order: possibly none (then wait on Wait), or the error that ended the
// stream. While replaying, each call reads one page from the outbox.
func (s *Stream) Next(ctx context.Context) ([][]byte, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	if s.replaying {
		return s.replay(ctx)
	}
	var out [][]byte
	if s.readyDue {
		s.readyDue = false
		out = append(out, readyJSON(s.cursor, s.resync))
	}
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, m := range q {
		seq := s.aud.seqOf(&m.Event)
		if seq <= s.cursor {
			continue // replayed already
		}
		if s.aud.Customer() && seq > s.cursor+1 {
			// A wallet's events come from several merchants' sequences,
			// which the dispatcher delivers independently: fetch the ones
			// overtaken (committed, since a later number is).
			missed, err := s.hub.ob.WalletEvents(ctx, s.aud.WalletID, s.cursor, seq, replayPage)
			if err != nil {
				return out, err
			}
			for i := range missed {
				out = append(out, Encode(missed[i], true))
				s.cursor = missed[i].WalletSeq
			}
		}
		out = append(out, m.JSON(s.aud))
		s.cursor = seq
	}
	return out, nil
}

// replay sends the next page of the outbox after the cursor. Sequences are
// dense and commit in order, so a page that does not start right after the
// cursor, or an empty one while the cursor is short of the head, means the
// events in between were purged (Outbox.Purge): the client cannot be given
// them, so it is told to resync (on the ready message) and the replay goes
// on from the head, like a client too far behind.
func (s *Stream) replay(ctx context.Context) ([][]byte, error) {
	var (
		events []Event
		err    error
	)
	for {
		if s.aud.Customer() {
			events, err = s.hub.ob.WalletEvents(ctx, s.aud.WalletID, s.cursor, 0, replayPage)
		} else {
			events, err = s.hub.ob.MerchantEvents(ctx, s.aud.MerchantID, s.cursor, replayPage)
		}
		if err != nil {
			return nil, err
		}
		gap := len(events) > 0 && s.aud.seqOf(&events[0]) != s.cursor+1 || len(events) == 0 && s.cursor < s.head
		if !gap {
			break
		}
		s.resync = true
		if s.cursor >= s.head {
			// Past the head nothing is old enough to be purged; never loop.
			break
		}
		s.cursor = s.head
	}
	var out [][]byte
	for i := range events {
		e := &events[i]
		if Visible(s.aud, e) {
			out = append(out, Encode(*e, s.aud.Customer()))
		}
		s.cursor = s.aud.seqOf(e)
	}
	if len(events) < replayPage {
		s.mu.Lock()
		if s.overflow {
			// Live events were dropped meanwhile: they are in the outbox.
			s.overflow, s.queue = false, nil
		} else {
			s.replaying = false
		}
		s.mu.Unlock()
		if !s.replaying {
			s.notify() // the queue may hold live events already
		}
	}
	return out, nil
}
