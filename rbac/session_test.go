package rbac_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

// endedLog records what TokenOptions.SessionEnded is told, and fails it
// on demand.
type endedLog struct {
	mu    sync.Mutex
	ended []rbac.Session
	fail  error
}

func (l *endedLog) record(_ context.Context, s rbac.Session) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.ended = append(l.ended, s)
	return nil
}

func (l *endedLog) take() []rbac.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.ended
	l.ended = nil
	return out
}

func eachDBEnded(t *testing.T, fn func(t *testing.T, s sessions, log *endedLog)) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		clock := newTestClock()
		log := &endedLog{}
		tok, err := rbac.NewTokens(rbac.NewGormSessionStore(db), testSecret, clock.Now, rbac.TokenOptions{SessionEnded: log.record})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, sessions{Tokens: tok, db: db, clock: clock}, log)
	})
}

// session is the session an access token was issued for.
func session(t *testing.T, s sessions, access string) string {
	t.Helper()
	g, err := s.Grant(access)
	if err != nil {
		t.Fatalf("Grant: %v", err)
	}
	return g.Session
}

func TestAccessTokensNameTheirSession(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		phone := s.issue(t, cashier)
		tablet := s.issue(t, cashier)
		id := session(t, s, phone.AccessToken)
		if id == "" || id == session(t, s, tablet.AccessToken) {
			t.Fatalf("sessions %q and %q: want two, non-empty", id, session(t, s, tablet.AccessToken))
		}
		// A refresh continues the session.
		if got := session(t, s, s.refresh(t, phone.RefreshToken).AccessToken); got != id {
			t.Fatalf("refreshed token's session = %q, want %q", got, id)
		}
	})
}

func TestTokenWithoutSessionStillVerifies(t *testing.T) {
	clock := newTestClock()
	tok := newTokens(t, nil, clock)
	// As signed before tokens carried their session.
	old := signedFor(t, jwt.SigningMethodHS256, testSecret, validClaims(clock.Now()))
	if p, err := tok.Verify(old); err != nil || p != cashier {
		t.Fatalf("Verify = %+v, %v; want %+v", p, err, cashier)
	}
	if g, err := tok.Grant(old); err != nil || g.Session != "" {
		t.Fatalf("Grant = %+v, %v; want no session", g, err)
	}
}

func TestSessionEnded(t *testing.T) {
	eachDBEnded(t, func(t *testing.T, s sessions, log *endedLog) {
		ctx := context.Background()
		phone := s.issue(t, cashier)
		tablet := s.issue(t, cashier)
		want := rbac.Session{ID: session(t, s, phone.AccessToken), Principal: cashier}

		// A failing observer undoes the logout.
		log.fail = errors.New("outbox down")
		if err := s.Logout(ctx, phone.RefreshToken); err == nil {
			t.Fatal("Logout succeeded though SessionEnded failed")
		}
		log.fail = nil
		phone = s.refresh(t, phone.RefreshToken)

		if err := s.Logout(ctx, phone.RefreshToken); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		if got := log.take(); len(got) != 1 || got[0] != want {
			t.Fatalf("SessionEnded told %+v, want [%+v]", got, want)
		}
		// Logging out again ends nothing more.
		if err := s.Logout(ctx, phone.RefreshToken); err != nil {
			t.Fatalf("second Logout: %v", err)
		}
		if got := log.take(); len(got) != 0 {
			t.Fatalf("second Logout told %+v, want nothing", got)
		}

		// Reuse revokes the tablet's family: that session ends too.
		rotated := s.refresh(t, tablet.RefreshToken)
		s.refused(t, tablet.RefreshToken, rbac.ErrRefreshTokenReused)
		want = rbac.Session{ID: session(t, s, rotated.AccessToken), Principal: cashier}
		if got := log.take(); len(got) != 1 || got[0] != want {
			t.Fatalf("reuse told %+v, want [%+v]", got, want)
		}
	})
}

func TestCheckSession(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		ctx := context.Background()
		phone := s.issue(t, cashier)
		tablet := s.issue(t, cashier)
		phone = s.refresh(t, phone.RefreshToken)
		for _, id := range []string{session(t, s, phone.AccessToken), session(t, s, tablet.AccessToken), ""} {
			if err := s.CheckSession(ctx, id); err != nil {
				t.Fatalf("CheckSession(%q) before logout: %v", id, err)
			}
		}
		if err := s.Logout(ctx, phone.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckSession(ctx, session(t, s, phone.AccessToken)); !errors.Is(err, rbac.ErrSessionEnded) {
			t.Fatalf("CheckSession after logout = %v, want ErrSessionEnded", err)
		}
		if err := s.CheckSession(ctx, session(t, s, tablet.AccessToken)); err != nil {
			t.Fatalf("the other session: %v", err)
		}
	})
}
