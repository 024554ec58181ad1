package merchant

import "time"

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

// Audit actions.
const (
	AuditMerchantCreated = "merchant.created"
	AuditStoreCreated    = "store.created"
	AuditStaffCreated    = "staff.created"
	AuditStaffDisabled   = "staff.disabled"
	AuditStaffEnabled    = "staff.enabled"
	AuditPasswordReset   = "staff.password_reset"
	AuditLoginFailed     = "login.failed"
	AuditLoginSucceeded  = "login.succeeded"
)
