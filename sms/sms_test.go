package sms_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := paydesk.AsError(err).Code; err == nil || got != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

func TestCodeConfirmsThePhoneOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
		dev := sms.NewDev(nil)
		c := sms.NewConfirmer(sms.NewGormStore(db), dev, clock.Now)
		phone, err := c.Send(ctx, "+86 138 0013 8000", sms.PurposeRegister)
		if err != nil || phone != "13800138000" {
			t.Fatalf("send: %q, %v", phone, err)
		}
		code := dev.LastCode(phone)
		if len(code) != 6 {
			t.Fatalf("dev channel kept %q", code)
		}
		_, err = c.Send(ctx, phone, sms.PurposeRegister)
		wantCode(t, "a second code at once", err, "PHONE_CODE_TOO_SOON")
		if pe := paydesk.AsError(err); pe.RetryAfter != 60 {
			t.Fatalf("Retry-After %d, want 60", pe.RetryAfter)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		wantCode(t, "a wrong code", c.Confirm(ctx, phone, sms.PurposeRegister, wrong), "PHONE_CODE_WRONG")
		wantCode(t, "not digits", c.Confirm(ctx, phone, sms.PurposeRegister, "12ab56"), "INVALID_PHONE_CODE")
		if err := c.Confirm(ctx, "138 0013 8000", sms.PurposeRegister, code); err != nil {
			t.Fatalf("the right code: %v", err)
		}
		wantCode(t, "the code again", c.Confirm(ctx, phone, sms.PurposeRegister, code), "PHONE_CODE_WRONG")

		// A code expires, and 5 wrong tries spend it.
		clock.Advance(sms.Resend)
		if _, err := c.Send(ctx, phone, sms.PurposeRegister); err != nil {
			t.Fatal(err)
		}
		code = dev.LastCode(phone)
		clock.Advance(sms.CodeLifetime)
		wantCode(t, "an expired code", c.Confirm(ctx, phone, sms.PurposeRegister, code), "PHONE_CODE_WRONG")
		if _, err := c.Send(ctx, phone, sms.PurposeRegister); err != nil {
			t.Fatal(err)
		}
		code = dev.LastCode(phone)
		wrong = "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range sms.MaxFailures {
			wantCode(t, "a wrong code", c.Confirm(ctx, phone, sms.PurposeRegister, wrong), "PHONE_CODE_WRONG")
		}
		wantCode(t, "the right code after 5 wrong ones", c.Confirm(ctx, phone, sms.PurposeRegister, code), "PHONE_CODE_WRONG")
	})
}

// TestCodeSpentOnceUnderConcurrency: of many requests with the right code
// at once, exactly one confirms.
func TestCodeSpentOnceUnderConcurrency(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		dev := sms.NewDev(nil)
		c := sms.NewConfirmer(sms.NewGormStore(db), dev, nil)
		phone, err := c.Send(ctx, "13800138000", sms.PurposeRegister)
		if err != nil {
			t.Fatal(err)
		}
		code := dev.LastCode(phone)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				switch err := c.Confirm(ctx, phone, sms.PurposeRegister, code); {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, sms.ErrCodeWrong):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d of 16 concurrent confirmations succeeded, want 1", ok.Load())
		}
	})
}

func TestNoChannelRefusesClearly(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		c := sms.NewConfirmer(sms.NewGormStore(db), nil, nil)
		_, err := c.Send(context.Background(), "13800138000", sms.PurposeRegister)
		wantCode(t, "send without a channel", err, "SMS_UNAVAILABLE")
	})
}
