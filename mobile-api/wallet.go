package mobileapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/bank"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/sms"
	"github.com/paydesk/paydesk/wallet"
)

// The wallet app's account routes (SPEC §2, §7.1): register and log in by
// phone, the home screen, the bound card, top-ups and the history. The
// customer is the token's principal; every route works on their own wallet
// only, so there is no wallet id in any path.

// walletOf returns the calling customer's wallet.
func walletOf(c *gin.Context) wallet.WalletID { return wallet.WalletID(principal(c).ID) }

type walletRefJSON struct {
	ID    int64  `json:"id"`
	Phone string `json:"phone"`
}

type walletTokensJSON struct {
	tokensJSON
	Wallet walletRefJSON `json:"wallet"`
}

// issueWalletTokens starts a session for wallet id and answers it.
func (s *Server) issueWalletTokens(c *gin.Context, status int, id wallet.WalletID, phone string) {
	pair, err := s.cfg.Tokens.Issue(c.Request.Context(), rbac.Principal{Kind: rbac.KindCustomer, ID: int64(id), Role: rbac.Customer})
	if err != nil {
		writeError(c, err)
		return
	}
	norm, _ := paydesk.NormalizePhone(phone) // the service accepted it
	c.JSON(status, walletTokensJSON{tokensJSON: tokensView(pair), Wallet: walletRefJSON{ID: int64(id), Phone: norm}})
}

type registerCodeRequest struct {
	Phone string `json:"phone"`
}

type registerCodeJSON struct {
	Phone            string `json:"phone"`
	ExpiresInSeconds int    `json:"expires_in_seconds"`
	// DevCode is the code itself, only from a dev-mode server (its SMS
	// channel sends nothing), so that the apps' tests can register.
	DevCode string `json:"dev_code,omitempty"`
}

// registerCode is POST /v1/wallet/register/code: send the one-time code
// that proves the caller holds the phone they register. One code per
// phone per minute (PHONE_CODE_TOO_SOON), and the register class's
// per-IP bucket.
func (s *Server) registerCode(c *gin.Context) {
	var req registerCodeRequest
	if !bindJSON(c, &req) {
		return
	}
	if s.cfg.Phones == nil {
		writeError(c, sms.ErrNoChannel)
		return
	}
	phone, err := s.cfg.Phones.Send(c.Request.Context(), req.Phone, sms.PurposeRegister)
	if err != nil {
		writeError(c, err)
		return
	}
	out := registerCodeJSON{Phone: phone, ExpiresInSeconds: int(sms.CodeLifetime / time.Second)}
	if s.cfg.DevCodes != nil {
		out.DevCode = s.cfg.DevCodes(phone)
	}
	c.JSON(http.StatusAccepted, out)
}

type registerRequest struct {
	Phone    string `json:"phone"`
	Password string `json:"password"`
	// Code is the one POST /v1/wallet/register/code sent to the phone.
	Code string `json:"code"`
}

// registerWallet is POST /v1/wallet/register: a new wallet for a phone
// number, confirmed with the code sent to it, logged in at once. Without
// Config.Phones (tests of other things) no code is asked.
func (s *Server) registerWallet(c *gin.Context) {
	var req registerRequest
	if !bindJSON(c, &req) {
		return
	}
	if s.cfg.Phones != nil {
		if err := s.cfg.Phones.Confirm(c.Request.Context(), req.Phone, sms.PurposeRegister, req.Code); err != nil {
			writeError(c, err)
			return
		}
	}
	id, err := s.cfg.Wallets.Register(c.Request.Context(), req.Phone, req.Password)
	if err != nil {
		writeError(c, err)
		return
	}
	s.issueWalletTokens(c, http.StatusCreated, id, req.Phone)
}

// walletLogin is POST /v1/wallet/login. The wallet service throttles it
// per phone number (TOO_MANY_ATTEMPTS with Retry-After).
func (s *Server) walletLogin(c *gin.Context) {
	var req loginRequest
	if !bindJSON(c, &req) {
		return
	}
	id, err := s.cfg.Wallets.Authenticate(c.Request.Context(), req.Phone, req.Password, c.ClientIP())
	if err != nil {
		writeError(c, err)
		return
	}
	s.issueWalletTokens(c, http.StatusOK, id, req.Phone)
}

type cardJSON struct {
	Last4    string `json:"last4"`
	BankName string `json:"bank_name"`
}

type voucherJSON struct {
	ID         int64     `json:"id"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	MerchantID int64     `json:"merchant_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

type couponJSON struct {
	ID        int64     `json:"id"`
	Amount    int64     `json:"amount"`
	Remaining int64     `json:"remaining"`
	Currency  string    `json:"currency"`
	ExpiresAt time.Time `json:"expires_at"`
}

type walletJSON struct {
	ID              int64         `json:"id"`
	Phone           string        `json:"phone"`
	Currency        string        `json:"currency"`
	Cash            int64         `json:"cash"`
	Coupons         int64         `json:"coupons"`
	CouponList      []couponJSON  `json:"coupon_list"`
	Vouchers        []voucherJSON `json:"vouchers"`
	Card            *cardJSON     `json:"card"`
	NoPasswordLimit int64         `json:"no_password_limit"`
}

func cardView(c bank.Card) *cardJSON { return &cardJSON{Last4: c.Last4, BankName: c.BankName} }

// getWallet is GET /v1/wallet: the home screen.
func (s *Server) getWallet(c *gin.Context) {
	v, err := s.cfg.Wallets.Wallet(c.Request.Context(), walletOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	out := walletJSON{ID: int64(v.ID), Phone: v.Phone, Currency: string(v.Currency), Cash: int64(v.Cash), Coupons: int64(v.Coupons),
		CouponList: []couponJSON{}, Vouchers: []voucherJSON{}, NoPasswordLimit: int64(v.NoPasswordLimit)}
	for _, cp := range v.CouponList {
		out.CouponList = append(out.CouponList, couponJSON{ID: int64(cp.ID), Amount: int64(cp.Amount), Remaining: int64(cp.Remaining),
			Currency: string(cp.Currency), ExpiresAt: cp.ExpiresAt})
	}
	for _, vc := range v.Vouchers {
		out.Vouchers = append(out.Vouchers, voucherJSON{ID: int64(vc.ID), Amount: int64(vc.Amount), Currency: string(vc.Currency),
			MerchantID: vc.MerchantID, ExpiresAt: vc.ExpiresAt})
	}
	if v.Card != nil {
		out.Card = cardView(*v.Card)
	}
	c.JSON(http.StatusOK, out)
}

type bindCardRequest struct {
	Number      string `json:"number"`
	Holder      string `json:"holder"`
	ExpiryMonth int    `json:"expiry_month"`
	ExpiryYear  int    `json:"expiry_year"`
}

// bindCard is POST /v1/wallet/cards: the card goes to the bank (simulator)
// and is not kept; the wallet keeps the bank's token, which no response
// shows, and the last four digits.
func (s *Server) bindCard(c *gin.Context) {
	var req bindCardRequest
	if !bindJSON(c, &req) {
		return
	}
	card, err := s.cfg.Wallets.BindCard(c.Request.Context(), walletOf(c), bank.CardDetails{Number: req.Number, Holder: req.Holder,
		ExpiryMonth: req.ExpiryMonth, ExpiryYear: req.ExpiryYear})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, cardView(card))
}

type topUpRequest struct {
	Amount    int64  `json:"amount"`
	RequestNo string `json:"request_no"`
}

type topUpJSON struct {
	RequestNo     string `json:"request_no"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	BankReference string `json:"bank_reference"`
}

// topUp is POST /v1/wallet/topups: amount from the bound card into the
// cash balance. request_no makes it idempotent: the same number again
// debits the card once and credits the wallet once.
func (s *Server) topUp(c *gin.Context) {
	var req topUpRequest
	if !bindJSON(c, &req) {
		return
	}
	ctx := c.Request.Context()
	t, err := s.cfg.Wallets.TopUp(ctx, walletOf(c), paydesk.Amount(req.Amount), req.RequestNo)
	if err != nil {
		writeError(c, err)
		return
	}
	v, err := s.cfg.Wallets.Wallet(ctx, walletOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, topUpJSON{RequestNo: req.RequestNo, Amount: int64(t.Amount), Currency: string(v.Currency), BankReference: t.BankReference})
}

type transactionJSON struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Memo      string    `json:"memo"`
	Cash      int64     `json:"cash"`
	Coupon    int64     `json:"coupon"`
	CreatedAt time.Time `json:"created_at"`
}

// transactions is GET /v1/wallet/transactions?cursor=&limit=: the wallet's
// movements, newest first; next_cursor fetches the next (older) page and is
// null on the last one.
func (s *Server) transactions(c *gin.Context) {
	cursor, err := parseBoundedInt(c.Query("cursor"), "cursor", 0, 1, 1<<62)
	if err != nil {
		writeError(c, err)
		return
	}
	limit, err := parseBoundedInt(c.Query("limit"), "limit", 20, 1, 100)
	if err != nil {
		writeError(c, err)
		return
	}
	p, err := s.cfg.Wallets.Transactions(c.Request.Context(), walletOf(c), cursor, int(limit))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(p.Items, func(t wallet.Transaction) transactionJSON {
		return transactionJSON{ID: t.ID, Kind: t.Kind, Memo: t.Memo, Cash: int64(t.Cash), Coupon: int64(t.Coupon), CreatedAt: t.At}
	}, p.Next))
}
