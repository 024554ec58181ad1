package push

import (
	"context"
	"time"
)

// The dispatcher finds new events by their merchant's sequence rather than
// by id: on MySQL an id is taken when a row is inserted, not when it
// commits, so a lower id can become visible after a higher one and a
// cursor over ids would step over it (and ids handed out in blocks per
// instance are not even ordered across instances). A merchant's sequence
// numbers, in contrast, commit in order and without holes. So each poll
// asks which merchants' sequences moved recently (event_sequences by
// updated_at, looking back Config.Lookback to cover transactions still
// committing and clock skew), and reads each one's events after the last
// number it handed out. An event whose stamp falls outside the window (an
// instance's clock more than Lookback behind) is not lost: it goes out
// with the merchant's next event, which is read from the last number
// handed out, and reconnecting clients replay it.

// eagerSteps are the pauses between the polls that follow a wake-up: an
// Emit wakes the dispatcher before its transaction commits, so it looks
// again a few times, soon, before falling back to PollInterval.
var eagerSteps = []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond,
	16 * time.Millisecond, 32 * time.Millisecond, 64 * time.Millisecond}

// pageSize is how many events of one merchant a poll reads at a time.
const pageSize = 500

func (h *Hub) run(ctx context.Context) {
	timer := time.NewTimer(h.cfg.PollInterval)
	defer timer.Stop()
	step := len(eagerSteps)
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
			step = 0
		case <-timer.C:
		}
		n, err := h.poll(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				h.log.Error("push: polling the outbox failed; retrying", "error", err)
			}
			failing = true
		case failing:
			h.log.Info("push: polling the outbox works again")
			failing = false
		}
		if n > 0 && h.cfg.Bus != nil && time.Since(time.Unix(0, h.lastLocal.Load())) < 2*time.Second {
			// Some of what was found was (likely) written here: wake the
			// other instances. A wasted wake-up costs them one poll.
			select {
			case h.publish <- struct{}{}:
			default: // one is pending already
			}
		}
		wait := h.cfg.PollInterval
		if n > 0 {
			step = 0 // more may be committing right behind
		}
		if step < len(eagerSteps) {
			wait = eagerSteps[step]
			step++
		}
		timer.Reset(wait)
	}
}

// publisher sends the wake-ups the dispatcher asks for, off its path, one
// for any number asked while the previous one was in flight.
func (h *Hub) publisher(ctx context.Context) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.publish:
		}
		err := h.cfg.Bus.Publish(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			h.log.Warn("push: waking the other instances failed; they will poll", "error", err)
		case err == nil && failing:
			h.log.Info("push: waking the other instances works again")
		}
		failing = err != nil
	}
}

// ownTypes are the events the hub acts on itself, with or without streams:
// it tells Config.Seen (the read caches) of a disabled staff member and
// of a merchant's new terms, and ends sockets on the others.
var ownTypes = []string{string(StaffDisabled), string(SessionEnded), string(MerchantUpdated)}

// deliverOwn delivers the merchant's events of ownTypes with after < seq
// <= upTo, when nothing else of the merchant's is read.
func (h *Hub) deliverOwn(ctx context.Context, merchantID, after, upTo int64) error {
	if h.cfg.Seen == nil {
		return nil // with no stream to end either, they do nothing here
	}
	for after < upTo {
		events, err := h.ob.merchantEventsOf(ctx, merchantID, after, upTo, ownTypes, pageSize)
		if err != nil || len(events) == 0 {
			return err
		}
		h.deliver(events)
		after = events[len(events)-1].Seq
	}
	return nil
}

// listening reports whether a stream on this instance may see events of
// merchantID: one of its staff's, or any customer's (whose wallet may have
// paid it).
func (h *Hub) listening(merchantID int64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.merchants[merchantID] != nil || len(h.wallets) > 0
}

// poll delivers the events written since the last poll and returns how
// many it found. The first poll only learns where every merchant is.
func (h *Hub) poll(ctx context.Context) (int, error) {
	started := h.ob.clock()
	since := time.Time{}
	if h.primed {
		since = h.lastPoll.Add(-h.cfg.Lookback)
	}
	heads, err := h.ob.heads(ctx, since)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, hd := range heads {
		last, ok := h.delivered[hd.MerchantID]
		if !h.primed {
			h.delivered[hd.MerchantID] = hd.LastSeq
			continue
		}
		if ok && hd.LastSeq <= last {
			continue
		}
		if !h.listening(hd.MerchantID) {
			// No stream here may see the merchant's events, so only those
			// the hub itself acts on are read (under load, one instance's
			// own payments cost every other instance a read of each event).
			// All count as found, so that the other instances are woken for
			// them. A stream that subscribes from now on reads the outbox
			// from its own position first: it subscribed after this check,
			// so after the heads were read.
			if err := h.deliverOwn(ctx, hd.MerchantID, last, hd.LastSeq); err != nil {
				return n, err
			}
			n += int(hd.LastSeq - last)
			h.delivered[hd.MerchantID] = hd.LastSeq
			continue
		}
		for last < hd.LastSeq {
			events, err := h.ob.MerchantEvents(ctx, hd.MerchantID, last, pageSize)
			if err != nil {
				return n, err
			}
			if len(events) == 0 {
				break
			}
			h.deliver(events)
			n += len(events)
			last = events[len(events)-1].Seq
			h.delivered[hd.MerchantID] = last
		}
	}
	h.primed, h.lastPoll = true, started
	return n, nil
}
