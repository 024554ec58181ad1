package pos

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/paydesk/paydesk/storage"
)

// updatedColumns are the columns UpdateOrder writes: the state and what
// changes with it. An order's identity (merchant, out_trade_no, amount,
// pay token) never changes.
var updatedColumns = []string{"state", "wallet_id", "funding_voucher", "funding_coupon", "funding_cash", "funding_card",
	"funding_detail", "fee", "refunded", "close_reason", "expires_at", "paid_at", "closed_at", "updated_at"}

// updatedValues are r's values of updatedColumns, in their order.
func (r orderRow) updatedValues() []any {
	return []any{r.State, r.WalletID, r.FundingVoucher, r.FundingCoupon, r.FundingCash, r.FundingCard,
		r.FundingDetail, r.Fee, r.Refunded, r.CloseReason, r.ExpiresAt, r.PaidAt, r.ClosedAt, r.UpdatedAt}
}

// UpdateOrder writes o's changing fields if its stored state is one of from.
//
// Inside a ledger batch (a Bulk in ctx) the update is gathered with the
// batch's others and written at the batch's end, in one statement per
// chunk of orders (see orderUpdates): it then reports true, and an order
// that left its from states meanwhile fails the whole batch when it is
// written, after which the ledger runs the batch's requests one at a time,
// without a Bulk, and each learns its own answer. A collection QR paid
// while the closer closes it is rare; its neighbours pay for it once, by
// being written one by one.
func (s *GormStorage) UpdateOrder(ctx context.Context, o Order, from ...State) (bool, error) {
	r, err := toRow(o)
	if err != nil {
		return false, err
	}
	states := fromStates(from)
	if len(states) == 0 {
		return false, nil // no state to move from
	}
	if g, ok := storage.Gather(ctx, s.db, orderUpdatesKey{}, func() *orderUpdates { return newOrderUpdates(s.db) }); ok {
		return g.add(r, states), nil
	}
	q, args := updateOrdersSQL(states, []orderRow{r})
	res := s.db.Writer(ctx).Exec(q, args...)
	if res.Error != nil {
		return false, fmt.Errorf("update order %d: %w", o.ID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// fromStates are the stored states an update may start from, sorted, so
// that updates from the same states share a statement.
func fromStates(from []State) []string {
	states := make([]string, len(from))
	for i, f := range from {
		states[i] = string(f)
	}
	slices.Sort(states)
	return slices.Compact(states)
}

type orderUpdatesKey struct{}

// orderUpdates are the conditional order updates gathered in a Bulk: the
// payments of a batch's collection QRs, links and confirmations. A batch of
// 31 of them on MariaDB spent 40 ms in 31 UPDATEs one after another; it now
// takes one round trip.
type orderUpdates struct {
	db *storage.DB
	// Updates by their from states (almost always one group).
	groups map[string]*orderUpdateGroup
	keys   []string
	// The update gathered for each order, to answer a second update of the
	// same order in the batch (two wallets paying one QR) as it would be
	// answered once the first was written.
	pending map[int64]*orderRow
}

type orderUpdateGroup struct {
	from []string
	rows []*orderRow
}

func newOrderUpdates(db *storage.DB) *orderUpdates {
	return &orderUpdates{db: db, groups: map[string]*orderUpdateGroup{}, pending: map[int64]*orderRow{}}
}

// add gathers the update of r from states and reports whether it applies,
// as far as the batch knows: an order updated earlier in the batch is
// judged by the state that update gave it, and then written only once,
// with the later values and under the earlier update's condition.
func (g *orderUpdates) add(r orderRow, from []string) bool {
	if p, ok := g.pending[r.ID]; ok {
		if !slices.Contains(from, p.State) {
			return false
		}
		*p = r
		return true
	}
	k := strings.Join(from, ",")
	grp := g.groups[k]
	if grp == nil {
		grp = &orderUpdateGroup{from: from}
		g.groups[k] = grp
		g.keys = append(g.keys, k)
	}
	p := &r
	grp.rows = append(grp.rows, p)
	g.pending[r.ID] = p
	return true
}

// Flush writes the gathered updates, orders in id order (the order in
// which MySQL locks them), and fails if any order was no longer in one of
// its from states.
func (g *orderUpdates) Flush(ctx context.Context) error {
	w := g.db.Writer(ctx)
	for _, k := range g.keys {
		grp := g.groups[k]
		rows := make([]orderRow, len(grp.rows))
		for i, p := range grp.rows {
			rows[i] = *p
		}
		slices.SortFunc(rows, func(a, b orderRow) int { return cmp.Compare(a.ID, b.ID) })
		start := 0
		for _, n := range g.db.Chunks(len(rows)) {
			chunk := rows[start : start+n]
			start += n
			q, args := updateOrdersSQL(grp.from, chunk)
			res := w.Exec(q, args...)
			if res.Error != nil {
				return fmt.Errorf("update %d orders: %w", len(chunk), res.Error)
			}
			if res.RowsAffected != int64(len(chunk)) {
				return fmt.Errorf("update %d orders: %d no longer in %s: %w", len(chunk), int64(len(chunk))-res.RowsAffected, k, errStateMoved)
			}
		}
	}
	return nil
}

// updateOrdersSQL is one UPDATE that writes rows' updatedColumns to the
// orders that are still in one of the from states: each column is a CASE
// on the id, so that its text depends only on the numbers of rows and of
// states (see storage.DB.Chunks).
func updateOrdersSQL(from []string, rows []orderRow) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(rows)*(2*len(updatedColumns)+1)+len(from))
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = r.updatedValues()
	}
	b.WriteString("UPDATE orders SET ")
	for c, col := range updatedColumns {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteString(col + " = CASE id")
		for i, r := range rows {
			b.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, vals[i][c])
		}
		b.WriteString(" END")
	}
	b.WriteString(" WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(rows)), ",") + ")")
	for _, r := range rows {
		args = append(args, r.ID)
	}
	b.WriteString(" AND state IN (" + strings.TrimSuffix(strings.Repeat("?,", len(from)), ",") + ")")
	for _, f := range from {
		args = append(args, f)
	}
	return b.String(), args
}
