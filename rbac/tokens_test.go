package rbac_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
	"github.com/paydesk/paydesk/storage/storagetest"
)

func newTokens(t testing.TB, store rbac.SessionStore, clock *testkit.Clock) *rbac.Tokens {
	t.Helper()
	tok, err := rbac.NewTokens(store, testSecret, clock.Now, rbac.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sessions is one database with Tokens over it, on a clock the test moves.
type sessions struct {
	*rbac.Tokens
	db    *storage.DB
	clock *testkit.Clock
}

func eachDB(t *testing.T, fn func(t *testing.T, s sessions)) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		clock := newTestClock()
		fn(t, sessions{Tokens: newTokens(t, rbac.NewGormSessionStore(db), clock), db: db, clock: clock})
	})
}

func (s sessions) issue(t *testing.T, p rbac.Principal) rbac.Pair {
	t.Helper()
	pair, err := s.Issue(context.Background(), p)
	if err != nil {
		t.Fatalf("Issue(%v): %v", p, err)
	}
	return pair
}

func (s sessions) refresh(t *testing.T, refreshToken string) rbac.Pair {
	t.Helper()
	pair, err := s.Refresh(context.Background(), refreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return pair
}

// refused checks that refreshToken no longer buys a pair, with code want.
func (s sessions) refused(t *testing.T, refreshToken string, want error) {
	t.Helper()
	_, err := s.Refresh(context.Background(), refreshToken)
	if !errors.Is(err, want) {
		t.Fatalf("Refresh: err = %v, want %v", err, want)
	}
	if paydesk.AsError(err).Kind != paydesk.KindUnauthorized {
		t.Fatalf("Refresh: %v is not KindUnauthorized", err)
	}
}

func TestIssueVerifyExpire(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		pair := s.issue(t, cashier)
		if pair.ExpiresIn != 15*60 {
			t.Fatalf("ExpiresIn = %d, want 900", pair.ExpiresIn)
		}
		if p, err := s.Verify(pair.AccessToken); err != nil || p != cashier {
			t.Fatalf("Verify = %+v, %v; want %+v", p, err, cashier)
		}
		s.clock.Advance(14 * time.Minute)
		if _, err := s.Verify(pair.AccessToken); err != nil {
			t.Fatalf("Verify after 14 minutes: %v", err)
		}
		s.clock.Advance(2 * time.Minute)
		if _, err := s.Verify(pair.AccessToken); !errors.Is(err, rbac.ErrTokenExpired) {
			t.Fatalf("Verify after 16 minutes: %v, want TOKEN_EXPIRED", err)
		}
		// The refresh token outlives the access token: that is its point.
		if p, err := s.Verify(s.refresh(t, pair.RefreshToken).AccessToken); err != nil || p != cashier {
			t.Fatalf("Verify of the refreshed token = %+v, %v", p, err)
		}
	})
}

func TestIssueRefusesAnInvalidPrincipal(t *testing.T) {
	s := newTokens(t, nil, newTestClock())
	for _, p := range []rbac.Principal{
		{},
		{Kind: rbac.KindStaff, ID: 1, MerchantID: 1, Role: rbac.Cashier},             // no store
		{Kind: rbac.KindStaff, ID: 1, MerchantID: 1, StoreID: 2, Role: rbac.Owner},   // owners have none
		{Kind: rbac.KindStaff, ID: 1, StoreID: 2, Role: rbac.Manager},                // no merchant
		{Kind: rbac.KindStaff, ID: 1, MerchantID: 1, Role: rbac.Customer},            // staff as customer
		{Kind: rbac.KindCustomer, ID: 1, MerchantID: 1, Role: rbac.Customer},         // customer of a merchant
		{Kind: rbac.KindCustomer, ID: 1, Role: rbac.Owner},                           // customer as owner
		{Kind: "robot", ID: 1, MerchantID: 1, Role: rbac.Owner},                      // unknown kind
		{Kind: rbac.KindCustomer, ID: -1, Role: rbac.Customer},                       // no id
		{Kind: rbac.KindStaff, ID: 1, MerchantID: 1, StoreID: 2, Role: "supervisor"}, // unknown role
	} {
		if _, err := s.Issue(context.Background(), p); !errors.Is(err, paydesk.ErrInvalid) {
			t.Errorf("Issue(%+v): err = %v, want INVALID_ARGUMENT", p, err)
		}
	}
}

func TestRefreshRotates(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		first := s.issue(t, cashier)
		s.clock.Advance(time.Minute)
		second := s.refresh(t, first.RefreshToken)
		if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
			t.Fatal("Refresh handed back the same tokens")
		}
		if p, err := s.Verify(second.AccessToken); err != nil || p != cashier {
			t.Fatalf("Verify = %+v, %v", p, err)
		}
		// The chain goes on: each new token buys the next one.
		third := s.refresh(t, second.RefreshToken)
		s.refresh(t, third.RefreshToken)
	})
}

func TestReuseRevokesTheFamily(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		phone := s.issue(t, cashier)
		tablet := s.issue(t, cashier) // another login of the same person
		next := s.refresh(t, phone.RefreshToken)

		// Someone presents the retired token: the thief or the owner,
		// nobody can tell, so the whole chain dies.
		s.refused(t, phone.RefreshToken, rbac.ErrRefreshTokenReused)
		s.refused(t, next.RefreshToken, rbac.ErrRefreshTokenInvalid)
		// Presenting it again is still refused, now as a revoked session.
		s.refused(t, phone.RefreshToken, rbac.ErrRefreshTokenInvalid)
		// Another login is another family and lives on.
		s.refresh(t, tablet.RefreshToken)
	})
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		pair := s.issue(t, cashier)
		const n = 16
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			pairs = make([]rbac.Pair, n)
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				pairs[i], errs[i] = s.Refresh(context.Background(), pair.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		var winners []rbac.Pair
		for i, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, pairs[i])
			case !errors.Is(err, rbac.ErrRefreshTokenReused) && !errors.Is(err, rbac.ErrRefreshTokenInvalid):
				t.Errorf("refresh %d: %v, want success or a refusal", i, err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("%d refreshes of one token succeeded, want exactly 1", len(winners))
		}
		// The losers count as reuse, which revokes the family: the winner
		// keeps its access token, but its refresh token is dead too.
		if _, err := s.Verify(winners[0].AccessToken); err != nil {
			t.Fatalf("the winner's access token: %v", err)
		}
		s.refused(t, winners[0].RefreshToken, rbac.ErrRefreshTokenInvalid)
		var rows int64
		if err := s.db.Reader(context.Background()).Raw("SELECT COUNT(*) FROM refresh_tokens").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != 2 {
			t.Fatalf("%d refresh tokens stored, want 2 (the original and the winner's)", rows)
		}
	})
}

func TestExpiredRefreshToken(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		pair := s.issue(t, cashier)
		s.clock.Advance(30*24*time.Hour - time.Second)
		pair = s.refresh(t, pair.RefreshToken) // a day of use slides the window
		s.clock.Advance(30*24*time.Hour - time.Second)
		pair = s.refresh(t, pair.RefreshToken)
		s.clock.Advance(30 * 24 * time.Hour)
		s.refused(t, pair.RefreshToken, rbac.ErrRefreshTokenInvalid)
	})
}

func TestLogout(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		ctx := context.Background()
		phone := s.issue(t, cashier)
		tablet := s.issue(t, cashier)
		rotated := s.refresh(t, phone.RefreshToken)
		if err := s.Logout(ctx, rotated.RefreshToken); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		s.refused(t, rotated.RefreshToken, rbac.ErrRefreshTokenInvalid)
		// The retired member of the family is revoked too, and since the
		// family is gone it is not reported as reuse.
		s.refused(t, phone.RefreshToken, rbac.ErrRefreshTokenInvalid)
		// Logging out twice, or with rubbish, is not an error.
		for _, tok := range []string{rotated.RefreshToken, "", "rubbish", strings.Repeat("A", 43)} {
			if err := s.Logout(ctx, tok); err != nil {
				t.Errorf("Logout(%q): %v", tok, err)
			}
		}
		// The other device stays logged in.
		s.refresh(t, tablet.RefreshToken)
	})
}

func TestRevokeSubject(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		ctx := context.Background()
		phone := s.issue(t, cashier)
		tablet := s.issue(t, cashier)
		tablet = s.refresh(t, tablet.RefreshToken)
		colleague := s.issue(t, rbac.Principal{Kind: rbac.KindStaff, ID: 8, MerchantID: 3, StoreID: 5, Role: rbac.Cashier})
		// A customer may share the cashier's numeric ID; kinds keep them apart.
		customer := s.issue(t, rbac.Principal{Kind: rbac.KindCustomer, ID: cashier.ID, Role: rbac.Customer})

		n, err := s.RevokeSubject(ctx, rbac.KindStaff, cashier.ID)
		if err != nil {
			t.Fatalf("RevokeSubject: %v", err)
		}
		if n != 3 { // the phone's token and both of the tablet's
			t.Fatalf("RevokeSubject revoked %d tokens, want 3", n)
		}
		s.refused(t, phone.RefreshToken, rbac.ErrRefreshTokenInvalid)
		s.refused(t, tablet.RefreshToken, rbac.ErrRefreshTokenInvalid)
		s.refresh(t, colleague.RefreshToken)
		s.refresh(t, customer.RefreshToken)
		if n, err := s.RevokeSubject(ctx, rbac.KindStaff, cashier.ID); err != nil || n != 0 {
			t.Fatalf("second RevokeSubject = %d, %v; want 0, nil", n, err)
		}
	})
}

func TestMalformedRefreshTokens(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		genuine := s.issue(t, cashier).RefreshToken
		for _, tok := range []string{
			"", "x", genuine + "A", genuine[:42], genuine + "=",
			base64.RawURLEncoding.EncodeToString(make([]byte, 31)),
			base64.RawURLEncoding.EncodeToString(make([]byte, 32)), // well-formed, unknown
			base64.StdEncoding.EncodeToString(make([]byte, 32)),
			strings.ToUpper(genuine),
		} {
			if tok == genuine {
				continue
			}
			s.refused(t, tok, rbac.ErrRefreshTokenInvalid)
		}
		// None of those touched the genuine session.
		s.refresh(t, genuine)
	})
}

func TestPurgeDropsLongExpiredSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, s sessions) {
		ctx := context.Background()
		old := s.issue(t, cashier)
		s.clock.Advance(45 * 24 * time.Hour)
		recent := s.issue(t, cashier)
		if n, err := s.Purge(ctx); err != nil || n != 0 {
			t.Fatalf("Purge at day 45 = %d, %v; want 0 (expired only 15 days ago)", n, err)
		}
		s.clock.Advance(16 * 24 * time.Hour)
		if n, err := s.Purge(ctx); err != nil || n != 1 {
			t.Fatalf("Purge at day 61 = %d, %v; want 1", n, err)
		}
		s.refused(t, old.RefreshToken, rbac.ErrRefreshTokenInvalid)
		s.refresh(t, recent.RefreshToken)
	})
}
