package cashier

import (
	"context"
	"time"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/rbac"
)

// AuditEvent records who did what to whom, when and from where.
type AuditEvent struct {
	ID         int64
	MerchantID int64 // 0 for a login failure of an unknown phone
	ActorID    int64 // the staff member acting; 0 when not logged in
	Action     string
	TargetID   int64
	Detail     string
	IP         string
	CreatedAt  time.Time
}

// Audit actions, of every package that records one (see Record).
const (
	AuditMerchantCreated    = "merchant.created"
	AuditMerchantUpdated    = "merchant.updated" // the operator's change of a merchant's terms
	AuditStoreCreated       = "store.created"
	AuditStoreUpdated       = "store.updated"
	AuditStaffCreated       = "staff.created"
	AuditStaffDisabled      = "staff.disabled"
	AuditStaffEnabled       = "staff.enabled"
	AuditPasswordReset      = "staff.password_reset"
	AuditPasswordChanged    = "staff.password_changed" // by the staff member themselves
	AuditLoginFailed        = "login.failed"
	AuditLoginSucceeded     = "login.succeeded"
	AuditBankAccountChanged = "bank_account.changed" // a new payout bank account
)

func (s *Service) audit(ctx context.Context, actor Actor, action string, target int64, detail string) error {
	return s.store.Audit(ctx, AuditEvent{MerchantID: actor.MerchantID, ActorID: actor.StaffID, Action: action,
		TargetID: target, Detail: detail, IP: actor.IP, CreatedAt: s.clock()})
}

// Record writes an audit event of actor's, within the transaction in ctx
// if there is one: for changes other services make on a merchant's behalf.
func (s *Service) Record(ctx context.Context, actor Actor, action string, target int64, detail string) error {
	return s.audit(ctx, actor, action, target, detail)
}

// AuditEvents returns the merchant's newest audit events; owners only.
func (s *Service) AuditEvents(ctx context.Context, actor Actor, limit int) ([]AuditEvent, error) {
	if actor.Role != rbac.Owner {
		return nil, paydesk.ErrForbidden
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.AuditEvents(ctx, actor.MerchantID, limit)
}
