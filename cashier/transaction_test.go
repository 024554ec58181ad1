package cashier_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// sessions are the real tokens on the test database, made to fail after
// revoking when fail is set: the last step of a change fails, after every
// other write of its transaction.
type sessions struct {
	*rbac.Tokens
	fail bool
}

var errSessions = errors.New("sessions down")

func (s *sessions) RevokeSubject(ctx context.Context, kind rbac.Kind, id int64) (int64, error) {
	n, err := s.Tokens.RevokeSubject(ctx, kind, id)
	if err == nil && s.fail {
		err = errSessions
	}
	return n, err
}

// world is a fixture whose staff service ends sessions with real tokens
// and tells a real outbox of disabled staff, as the server wires it.
type world struct {
	*fixture
	tokens   *sessions
	outbox   *push.Outbox
	cashier  cashier.Staff
	mgr      cashier.Actor
	refresh  string
	password string
}

func newWorld(t *testing.T, db *storage.DB) *world {
	t.Helper()
	tokens, err := rbac.NewTokens(rbac.NewGormSessionStore(db), []byte(strings.Repeat("k", rbac.MinSecretLen)), paydesk.SystemClock, rbac.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{tokens: &sessions{Tokens: tokens}, outbox: push.NewOutbox(db, paydesk.SystemClock), password: "password-1"}
	w.fixture = newFixture(t, db, cashier.WithSessions(w.tokens), cashier.WithObserver(w.outbox))
	mgr := w.add(t, w.owner, rbac.Manager, w.open.Store.ID, "13900000001")
	w.mgr = actorOf(mgr)
	w.cashier = w.add(t, w.mgr, rbac.Cashier, w.open.Store.ID, "13700000001")
	w.refresh = w.signIn(t)
	return w
}

// signIn starts a session of the cashier and returns its refresh token.
func (w *world) signIn(t *testing.T) string {
	t.Helper()
	c := w.cashier
	pair, err := w.tokens.Issue(context.Background(), rbac.Principal{Kind: rbac.KindStaff, ID: c.ID, MerchantID: c.MerchantID, StoreID: c.StoreID, Role: c.Role})
	if err != nil {
		t.Fatal(err)
	}
	return pair.RefreshToken
}

// sessionLives reports whether the refresh token still refreshes; a
// refresh rotates it, so the world keeps the new one.
func (w *world) sessionLives(t *testing.T) bool {
	t.Helper()
	pair, err := w.tokens.Refresh(context.Background(), w.refresh)
	if err != nil {
		return false
	}
	w.refresh = pair.RefreshToken
	return true
}

func (w *world) audited(t *testing.T, action string) int {
	t.Helper()
	events, err := w.staff.AuditEvents(context.Background(), w.owner, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action && e.TargetID == w.cashier.ID {
			n++
		}
	}
	return n
}

func (w *world) disabledEvents(t *testing.T) int {
	t.Helper()
	events, err := w.outbox.MerchantEvents(context.Background(), w.open.Merchant.ID, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == push.StaffDisabled && e.CashierID == w.cashier.ID {
			n++
		}
	}
	return n
}

// TestDisableIsOneTransaction: disabling writes the status, the audit
// record, the staff.disabled event and the end of every session together;
// when the last of them fails, none of it is left.
func TestDisableIsOneTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)

		w.tokens.fail = true
		if _, err := w.staff.Disable(ctx, w.mgr, w.cashier.ID); !errors.Is(err, errSessions) {
			t.Fatalf("disable with the sessions failing: %v, want %v", err, errSessions)
		}
		if st, err := w.staff.ByID(ctx, w.cashier.ID); err != nil || st.Status != cashier.Active {
			t.Errorf("after a failed disable the cashier is %+v, %v; want still active", st, err)
		}
		if n := w.audited(t, cashier.AuditStaffDisabled); n != 0 {
			t.Errorf("a failed disable left %d audit records", n)
		}
		if n := w.disabledEvents(t); n != 0 {
			t.Errorf("a failed disable left %d staff.disabled events", n)
		}
		if !w.sessionLives(t) {
			t.Error("a failed disable ended the cashier's session")
		}

		w.tokens.fail = false
		st, err := w.staff.Disable(ctx, w.mgr, w.cashier.ID)
		if err != nil || st.Status != cashier.Disabled {
			t.Fatalf("disable: %+v, %v", st, err)
		}
		if w.sessionLives(t) {
			t.Error("the disabled cashier's session still refreshes")
		}
		if a, e := w.audited(t, cashier.AuditStaffDisabled), w.disabledEvents(t); a != 1 || e != 1 {
			t.Errorf("disable wrote %d audit records and %d events, want 1 and 1", a, e)
		}

		// Again: nothing new is written, and a session started meanwhile
		// (as by a refresh racing the first disable) ends too.
		w.refresh = w.signIn(t)
		if _, err := w.staff.Disable(ctx, w.mgr, w.cashier.ID); err != nil {
			t.Fatalf("disable again: %v", err)
		}
		if w.sessionLives(t) {
			t.Error("a session outlives the second disable")
		}
		if a, e := w.audited(t, cashier.AuditStaffDisabled), w.disabledEvents(t); a != 1 || e != 1 {
			t.Errorf("after disabling twice: %d audit records and %d events, want 1 and 1", a, e)
		}
	})
}

// TestResetPasswordIsOneTransaction: a reset writes the password, its
// audit record, the end of the staff member's sessions and the lifting of
// their log-in lock together; when a step fails, the old password, the
// session and the lock are all as they were.
func TestResetPasswordIsOneTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		for range 5 {
			if _, err := w.staff.Login(ctx, w.cashier.Phone, "wrong-pass", "10.0.0.9"); !errors.Is(err, cashier.ErrInvalidCredentials) {
				t.Fatalf("wrong password: %v", err)
			}
		}
		locked := func() bool {
			_, err := w.staff.Login(ctx, w.cashier.Phone, w.password, "10.0.0.9")
			return paydesk.AsError(err).Code == "TOO_MANY_ATTEMPTS"
		}
		if !locked() {
			t.Fatal("five wrong passwords did not lock the address out")
		}

		w.tokens.fail = true
		if err := w.staff.ResetPassword(ctx, w.mgr, w.cashier.ID, "new-password-1"); !errors.Is(err, errSessions) {
			t.Fatalf("reset with the sessions failing: %v, want %v", err, errSessions)
		}
		if !locked() {
			t.Error("a failed reset lifted the log-in lock")
		}
		if _, err := w.staff.Login(ctx, w.cashier.Phone, w.password, "10.0.0.1"); err != nil {
			t.Errorf("the old password after a failed reset: %v", err)
		}
		if n := w.audited(t, cashier.AuditPasswordReset); n != 0 {
			t.Errorf("a failed reset left %d audit records", n)
		}
		if !w.sessionLives(t) {
			t.Error("a failed reset ended the cashier's session")
		}

		w.tokens.fail = false
		if err := w.staff.ResetPassword(ctx, w.mgr, w.cashier.ID, "new-password-1"); err != nil {
			t.Fatal(err)
		}
		if w.sessionLives(t) {
			t.Error("the session outlives the reset")
		}
		if _, err := w.staff.Login(ctx, w.cashier.Phone, "new-password-1", "10.0.0.9"); err != nil {
			t.Errorf("the new password from the address that was locked out: %v", err)
		}
		if n := w.audited(t, cashier.AuditPasswordReset); n != 1 {
			t.Errorf("%d reset audit records, want 1", n)
		}
	})
}

// TestChangePasswordEndsEverySession: the staff member's own change ends
// their sessions in its transaction; a failure keeps the old password.
func TestChangePasswordEndsEverySession(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		me := actorOf(w.cashier)
		w.tokens.fail = true
		if err := w.staff.ChangePassword(ctx, me, w.password, "new-password-2"); !errors.Is(err, errSessions) {
			t.Fatalf("change with the sessions failing: %v", err)
		}
		_, err := w.staff.Login(ctx, w.cashier.Phone, w.password, "10.0.0.1")
		if lives := w.sessionLives(t); err != nil || !lives {
			t.Fatalf("after a failed change: login %v, session lives %v; want both as before", err, lives)
		}
		w.tokens.fail = false
		if err := w.staff.ChangePassword(ctx, me, w.password, "new-password-2"); err != nil {
			t.Fatal(err)
		}
		if w.sessionLives(t) {
			t.Error("a session outlives the change of password")
		}
	})
}
