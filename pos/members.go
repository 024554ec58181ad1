package pos

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/wallet"
)

// Members (会员管理): every wallet that pays a merchant becomes its member
// at once, with its visits, total spent and last visit, kept by observing
// the POS (inside each payment's and refund's transaction) for the merchant
// as a whole and for the store that was paid. Total spent is net of
// refunds; a refund is not a visit.
type Members struct {
	store  MemberStorage
	payers PayerDirectory
}

// PayerDirectory names the payers behind wallet ids; *wallet.Service is one.
type PayerDirectory interface {
	// MaskedPhone returns a wallet's phone with its middle digits hidden.
	MaskedPhone(ctx context.Context, id wallet.WalletID) (string, error)
}

// NewMembers returns the members; register it with Service.Observe.
func NewMembers(store MemberStorage, payers PayerDirectory) *Members {
	return &Members{store: store, payers: payers}
}

var _ RefundObserver = (*Members)(nil)

// Member is a payer of a merchant (or of one of its stores).
type Member struct {
	WalletID    wallet.WalletID
	Phone       string // masked
	Visits      int64
	TotalSpent  paydesk.Amount
	LastVisitAt time.Time
}

// MemberSort orders a member list.
type MemberSort string

const (
	SortBySpend  MemberSort = "spend"  // the biggest spenders first
	SortByRecent MemberSort = "recent" // the latest visitors first
)

// MemberQuery asks for a page of members.
type MemberQuery struct {
	Sort   MemberSort // SortBySpend when empty
	Cursor string
	Limit  int // DefaultPageSize when 0, at most MaxPageSize
}

// MemberPage is one page of members.
type MemberPage struct {
	Members []Member
	Next    string
}

// MemberKeyset is where a member page starts, as storage uses it: after
// the member with this sort value (spend, or last visit in Unix
// nanoseconds) and wallet id.
type MemberKeyset struct {
	Value    int64
	WalletID int64
}

// MemberStorage keeps the members.
type MemberStorage interface {
	// AddVisit adds to a member row of each scope, creating it as needed,
	// in the transaction carried by ctx.
	AddVisit(ctx context.Context, merchantID int64, scopes []Scope, w wallet.WalletID, visits int64, spent paydesk.Amount, at time.Time) error
	// ListMembers returns up to limit members of a scope in sort order,
	// after the keyset when it is not nil.
	ListMembers(ctx context.Context, merchantID int64, sc Scope, sort MemberSort, after *MemberKeyset, limit int) ([]Member, error)
}

// OrderChanged makes the payer of a paid order a member, or counts the visit.
func (m *Members) OrderChanged(ctx context.Context, o Order, change Change) error {
	if change != ChangePaid || o.WalletID == 0 || o.Kind != KindPOS {
		return nil
	}
	return m.store.AddVisit(ctx, o.MerchantID, memberScopes(o), o.WalletID, 1, o.Amount, o.PaidAt)
}

// RefundSucceeded takes a refund off the member's total spent.
func (m *Members) RefundSucceeded(ctx context.Context, o Order, r Refund) error {
	if o.WalletID == 0 {
		return nil
	}
	return m.store.AddVisit(ctx, o.MerchantID, memberScopes(o), o.WalletID, 0, -r.Amount, o.PaidAt)
}

func memberScopes(o Order) []Scope {
	return []Scope{{ScopeMerchant, o.MerchantID}, {ScopeStore, o.StoreID}}
}

// ListMembers lists the members an owner (the merchant's) or a manager
// (the store's) may see, a page at a time. Cashiers see none: a member
// list is the store's customers and their spending.
func (m *Members) ListMembers(ctx context.Context, c cashier.Actor, q MemberQuery) (MemberPage, error) {
	var sc Scope
	switch c.Role {
	case rbac.Owner:
		sc = Scope{ScopeMerchant, c.MerchantID}
	case rbac.Manager:
		sc = Scope{ScopeStore, c.StoreID}
	default:
		return MemberPage{}, paydesk.ErrForbidden.WithMessage("members are for owners and managers")
	}
	switch q.Sort {
	case "":
		q.Sort = SortBySpend
	case SortBySpend, SortByRecent:
	default:
		return MemberPage{}, paydesk.ErrInvalid.WithMessage("sort must be %q or %q", SortBySpend, SortByRecent)
	}
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	q.Limit = min(q.Limit, MaxPageSize)
	var after *MemberKeyset
	if q.Cursor != "" {
		k, err := decodeMemberCursor(q.Cursor, q.Sort)
		if err != nil {
			return MemberPage{}, err
		}
		after = &k
	}
	ms, err := m.store.ListMembers(ctx, c.MerchantID, sc, q.Sort, after, q.Limit+1)
	if err != nil {
		return MemberPage{}, err
	}
	page := MemberPage{Members: ms}
	if len(ms) > q.Limit {
		page.Members = ms[:q.Limit]
		last := page.Members[q.Limit-1]
		v := int64(last.TotalSpent)
		if q.Sort == SortByRecent {
			v = last.LastVisitAt.UnixNano()
		}
		page.Next = encodeMemberCursor(q.Sort, MemberKeyset{Value: v, WalletID: int64(last.WalletID)})
	}
	for i := range page.Members {
		if p, err := m.payers.MaskedPhone(ctx, page.Members[i].WalletID); err == nil {
			page.Members[i].Phone = p
		}
	}
	return page, nil
}

// A member cursor names its sort, so a cursor of one order is refused by the other.
func encodeMemberCursor(sort MemberSort, k MemberKeyset) string {
	raw := "m1." + string(sort) + "." + strconv.FormatInt(k.Value, 36) + "." + strconv.FormatInt(k.WalletID, 36)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeMemberCursor(c string, sort MemberSort) (MemberKeyset, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(c) > 80 {
		return MemberKeyset{}, ErrInvalidCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 4 || parts[0] != "m1" || parts[1] != string(sort) {
		return MemberKeyset{}, ErrInvalidCursor
	}
	v, err1 := strconv.ParseInt(parts[2], 36, 64)
	w, err2 := strconv.ParseInt(parts[3], 36, 64)
	if err1 != nil || err2 != nil || w <= 0 {
		return MemberKeyset{}, ErrInvalidCursor
	}
	return MemberKeyset{Value: v, WalletID: w}, nil
}
