package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/internal/view"
)

type balanceJSON struct {
	Pending   int64  `json:"pending"`
	Available int64  `json:"available"`
	Frozen    int64  `json:"frozen"`
	Book      int64  `json:"book"`
	Currency  string `json:"currency"`
	// PayoutMode is auto (batches paid to the bank at their due date) or
	// manual (batches settle into available; the owner withdraws).
	PayoutMode string `json:"payout_mode"`
	// Withdrawable is what a withdrawal may take now; ReservedForRetry the
	// part of it FAILED batches hold for their retry.
	Withdrawable     int64 `json:"withdrawable"`
	ReservedForRetry int64 `json:"reserved_for_retry"`
	// Upcoming: batches still in pending, soonest due first.
	Upcoming []view.Batch `json:"upcoming"`
	// Failed: FAILED batches, their money reserved for the retry.
	Failed []view.Batch `json:"failed"`
	// InFlight: batches and withdrawals with the bank, their money frozen.
	InFlight inFlightJSON `json:"in_flight"`
}

type inFlightJSON struct {
	Settlements []view.Batch      `json:"settlements"`
	Withdrawals []view.Withdrawal `json:"withdrawals"`
}

// balance is GET /v1/balance: the merchant's cleared balances, straight
// from its ledger accounts, read at one moment, with what they are made
// of: what can be withdrawn now, the batches to come with their due
// dates, and what is with the bank. book = pending + available + frozen;
// voucher and coupon money is in none of them (seed 004, FAQ 5).
func (s *Server) balance(c *gin.Context) {
	o, err := s.cfg.Settlement.Overview(c.Request.Context(), actor(c).MerchantID)
	if err != nil {
		writeError(c, err)
		return
	}
	out := balanceJSON{Pending: int64(o.Pending), Available: int64(o.Available), Frozen: int64(o.Frozen),
		Book: int64(o.Book), Currency: string(o.Currency), PayoutMode: string(o.Mode),
		Withdrawable: int64(o.Withdrawable), ReservedForRetry: int64(o.Reserved),
		Upcoming: []view.Batch{}, Failed: []view.Batch{},
		InFlight: inFlightJSON{Settlements: []view.Batch{}, Withdrawals: []view.Withdrawal{}}}
	for _, b := range o.Upcoming {
		out.Upcoming = append(out.Upcoming, view.BatchOf(b))
	}
	for _, b := range o.Failed {
		out.Failed = append(out.Failed, view.BatchOf(b))
	}
	for _, b := range o.InFlightBatches {
		out.InFlight.Settlements = append(out.InFlight.Settlements, view.BatchOf(b))
	}
	for _, w := range o.InFlightWithdrawals {
		out.InFlight.Withdrawals = append(out.InFlight.Withdrawals, view.WithdrawalOf(w))
	}
	c.JSON(http.StatusOK, out)
}
