package checkout

import (
	"net/url"
	"testing"
	"time"
)

// FuzzVerify: whatever query a return_url receives, Verify refuses it or
// accepts it without a panic, and accepts only what was signed.
func FuzzVerify(f *testing.F) {
	signed := url.Values{"checkout_session": {"s"}, "order_id": {"1"}, "out_trade_no": {"a"}, "state": {"paid"}, "amount": {"100"}, "currency": {"CNY"}, "t": {"1764640000"}}
	signed.Set("sig", sign("rsec_x", signed))
	f.Add(signed.Encode())
	f.Add("sig=zz&t=1")
	now := time.Unix(1_764_640_000, 0)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if Verify("rsec_x", q, now, time.Hour) == nil && q.Get("sig") != sign("rsec_x", q) {
			t.Fatalf("%q verifies without its signature", raw)
		}
	})
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_764_640_000, 0)
	q := url.Values{"checkout_session": {"s"}, "order_id": {"1"}, "out_trade_no": {"a"}, "state": {"paid"}, "amount": {"100"}, "currency": {"CNY"}, "t": {"1764640000"}}
	q.Set("sig", sign("rsec_x", q))
	if err := Verify("rsec_x", q, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if Verify("rsec_y", q, now, 5*time.Minute) == nil || Verify("rsec_x", q, now.Add(10*time.Minute), 5*time.Minute) == nil {
		t.Fatal("another secret, or a stale result, verifies")
	}
}
