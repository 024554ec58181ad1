package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/pquerna/otp/totp"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
)

// LoadWallet is a wallet made for a load test, with what its phone app
// would hold: the payment-code id and secret to derive codes offline.
type LoadWallet struct {
	ID       WalletID `json:"id"`
	Phone    string   `json:"phone"`
	CodeID   string   `json:"code_id"`
	Secret   []byte   `json:"secret"`
	Cash     int64    `json:"cash"`
	Password string   `json:"-"`
}

// SeedLoadWallets opens n wallets with phones prefix+index, all with one
// password (hashed once: hashing is what makes registering slow on
// purpose), each funded with cash from the bank's clearing account. It is
// for load tests and demos, where tens of thousands of wallets are needed,
// because a wallet can pay only once per payment-code step. Wallets whose
// phone exists are returned as they are, so a second run reuses them.
func (s *Service) SeedLoadWallets(ctx context.Context, prefix string, n int, password string, cash paydesk.Amount) ([]LoadWallet, error) {
	hash, err := s.passwords.Hash(password)
	if err != nil {
		return nil, err
	}
	out := make([]LoadWallet, 0, n)
	const perTx = 500
	for start := 0; start < n; start += perTx {
		var made []*Wallet
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			made = made[:0]
			for i := start; i < min(start+perTx, n); i++ {
				phone, err := paydesk.NormalizePhone(fmt.Sprintf("%s%0*d", prefix, 11-len(prefix), i))
				if err != nil {
					return err
				}
				if w, err := s.store.WalletByPhone(ctx, phone); err == nil {
					made = append(made, &w)
					continue
				}
				w, err := s.newLoadWallet(ctx, phone, hash)
				if err != nil {
					return err
				}
				made = append(made, w)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed wallets: %w", err)
		}
		plat, err := s.platform(ctx)
		if err != nil {
			return nil, fmt.Errorf("seed wallets: %w", err)
		}
		// Funded concurrently, so the ledger's poster groups the top-ups.
		funded := make([]error, len(made))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for i, w := range made {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_, funded[i] = s.ledger.Post(ctx, ledger.Transfer{Reference: "seed:" + w.Phone, Kind: "topup", Memo: "load-test seed",
					Postings: []ledger.Posting{{Source: plat.Clearing, Destination: w.CashAccount, Amount: cash}}}, nil)
			})
		}
		wg.Wait()
		for i, w := range made {
			if funded[i] != nil {
				return nil, fmt.Errorf("seed wallets: fund %s: %w", w.Phone, funded[i])
			}
			out = append(out, LoadWallet{ID: w.ID, Phone: w.Phone, CodeID: w.CodeID, Secret: w.CodeSecret, Cash: int64(cash), Password: password})
		}
	}
	return out, nil
}

func (s *Service) newLoadWallet(ctx context.Context, phone, hash string) (*Wallet, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "paydesk", AccountName: phone})
	if err != nil {
		return nil, err
	}
	secret, err := newCodeSecret()
	if err != nil {
		return nil, err
	}
	for range 8 {
		codeID, err := newCodeID()
		if err != nil {
			return nil, err
		}
		w := &Wallet{Phone: phone, PasswordHash: hash, Currency: s.currency, CodeID: codeID, CodeSecret: secret,
			TOTPSecret: key.Secret(), NoPasswordLimit: DefaultNoPasswordLimit, CreatedAt: s.clock()}
		err = s.store.CreateWallet(ctx, w)
		if errors.Is(err, errCodeIDTaken) {
			continue
		}
		if err != nil {
			return nil, err
		}
		c, err := s.ledger.CreateAccount(ctx, ledger.Account{Code: CashAccountCode(w.ID), Type: TypeCash, Currency: s.currency})
		if err != nil {
			return nil, err
		}
		cp, err := s.ledger.CreateAccount(ctx, ledger.Account{Code: CouponAccountCode(w.ID), Type: TypeCouponCash, Currency: s.currency})
		if err != nil {
			return nil, err
		}
		w.CashAccount, w.CouponAccount = c.ID, cp.ID
		return w, s.store.SetAccounts(ctx, w.ID, c.ID, cp.ID)
	}
	return nil, fmt.Errorf("no free payment code id for %s", phone)
}

// CashByPhonePrefix returns the cash balance of every wallet whose phone
// starts with prefix, for a load test checking its books.
func (s *Service) CashByPhonePrefix(ctx context.Context, prefix string) (map[string]paydesk.Amount, error) {
	accounts, err := s.store.CashAccountsByPhonePrefix(ctx, prefix)
	if err != nil {
		return nil, err
	}
	phones := make([]string, 0, len(accounts))
	for p := range accounts {
		phones = append(phones, p)
	}
	out := make(map[string]paydesk.Amount, len(accounts))
	for chunk := range slices.Chunk(phones, 1000) {
		ids := make([]ledger.AccountID, len(chunk))
		for i, p := range chunk {
			ids[i] = accounts[p]
		}
		bal, err := s.ledger.Balances(ctx, ids...)
		if err != nil {
			return nil, fmt.Errorf("cash by phone: %w", err)
		}
		for _, p := range chunk {
			out[p] = bal[accounts[p]]
		}
	}
	return out, nil
}

// SeedWallet opens the wallet of phone, or finds it if it exists, and
// funds it once with cash from the bank's clearing account (under a
// reference of the phone's, so a second call moves nothing): for the demo,
// whose wallets must be funded without a card. The password of a wallet
// that exists is left as it is.
func (s *Service) SeedWallet(ctx context.Context, phone, password string, cash paydesk.Amount) (WalletID, error) {
	id, err := s.FindByPhone(ctx, phone)
	if errors.Is(err, ErrWalletNotFound) {
		id, err = s.Register(ctx, phone, password)
	}
	if err != nil {
		return 0, fmt.Errorf("seed wallet %s: %w", phone, err)
	}
	if cash <= 0 {
		return id, nil
	}
	w, err := s.wallet(ctx, id)
	if err != nil {
		return 0, err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return 0, err
	}
	_, err = s.ledger.Post(ctx, ledger.Transfer{Reference: "seed:" + w.Phone, Kind: "topup", Memo: "demo seed",
		Postings: []ledger.Posting{{Source: plat.Clearing, Destination: w.CashAccount, Amount: cash}}}, nil)
	if err != nil {
		return 0, fmt.Errorf("seed wallet %s: fund: %w", phone, err)
	}
	return id, nil
}
