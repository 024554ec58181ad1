package webhook

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paydesk/paydesk/internal/seal"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/storage"
)

// GormStorage keeps endpoints and deliveries in the database, with the
// endpoints' signing secrets sealed (package seal): a dump of the database
// alone cannot forge a delivery.
type GormStorage struct {
	db     *storage.DB
	sealer *seal.Sealer
}

// NewGormStorage returns Storage over db that seals the endpoints' secrets
// with sealer, which is required.
func NewGormStorage(db *storage.DB, sealer *seal.Sealer) *GormStorage {
	if sealer == nil {
		panic("webhook: NewGormStorage needs a sealer")
	}
	return &GormStorage{db: db, sealer: sealer}
}

var _ Storage = (*GormStorage)(nil)

// unclaimed is claimed_until of a delivery nobody holds.
var unclaimed = time.Unix(0, 0).UTC()

type endpointRow struct {
	ID         int64
	MerchantID int64
	URL        string
	Secret     string
	Events     string
	OrderID    *int64
	AfterSeq   int64
	DisabledAt *time.Time
	CreatedAt  time.Time
}

func (endpointRow) TableName() string { return "webhook_endpoints" }

// secretPlace names where an endpoint's secret is stored, for the seal: a
// sealed secret copied to another merchant's endpoint does not open.
func secretPlace(merchantID int64) []byte {
	return strconv.AppendInt([]byte("webhook_endpoints.secret:merchant:"), merchantID, 10)
}

// endpoint is the row's endpoint with its secret opened. A secret that does
// not open (a wrong data key, a value copied from another merchant) is
// left empty, and the dispatcher refuses to sign with it.
func (s *GormStorage) endpoint(r endpointRow) Endpoint {
	secret, _, err := s.sealer.Open(secretPlace(r.MerchantID), r.Secret)
	if err != nil {
		secret = nil
	}
	e := Endpoint{ID: r.ID, MerchantID: r.MerchantID, URL: r.URL, Secret: string(secret), AfterSeq: r.AfterSeq, DisabledAt: r.DisabledAt, CreatedAt: r.CreatedAt}
	if r.OrderID != nil {
		e.OrderID = *r.OrderID
	}
	for _, t := range strings.Fields(r.Events) {
		e.Events = append(e.Events, push.Type(t))
	}
	return e
}

type deliveryRow struct {
	ID            int64
	EndpointID    int64
	MerchantID    int64
	EventID       int64
	EventSeq      int64
	EventType     string
	OrderKey      string
	Payload       string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	ClaimedUntil  time.Time
	LastStatus    int
	LastError     string
	DeliveredAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

func (r deliveryRow) delivery() Delivery {
	return Delivery{ID: r.ID, EndpointID: r.EndpointID, MerchantID: r.MerchantID, EventID: r.EventID, EventSeq: r.EventSeq,
		EventType: push.Type(r.EventType), OrderKey: r.OrderKey, Payload: []byte(r.Payload), State: State(r.State), Attempts: r.Attempts,
		NextAttemptAt: r.NextAttemptAt, LastStatus: r.LastStatus, LastError: r.LastError, DeliveredAt: r.DeliveredAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateEndpoint inserts e and sets its ID.
func (s *GormStorage) CreateEndpoint(ctx context.Context, e *Endpoint) error {
	types := make([]string, len(e.Events))
	for i, t := range e.Events {
		types[i] = string(t)
	}
	sealed, err := s.sealer.Seal(secretPlace(e.MerchantID), []byte(e.Secret))
	if err != nil {
		return fmt.Errorf("seal webhook secret: %w", err)
	}
	r := endpointRow{MerchantID: e.MerchantID, URL: e.URL, Secret: sealed, Events: strings.Join(types, " "), AfterSeq: e.AfterSeq, CreatedAt: e.CreatedAt}
	if e.OrderID != 0 {
		r.OrderID = &e.OrderID
	}
	err = s.db.Writer(ctx).Create(&r).Error
	if storage.IsDuplicate(err) {
		return ErrOrderEndpointExists
	}
	if err != nil {
		return fmt.Errorf("insert webhook endpoint: %w", err)
	}
	e.ID = r.ID
	return nil
}

// Endpoint returns one of the merchant's endpoints.
func (s *GormStorage) Endpoint(ctx context.Context, merchantID, id int64) (Endpoint, error) {
	var r endpointRow
	err := s.db.Writer(ctx).Where("id = ? AND merchant_id = ?", id, merchantID).Take(&r).Error
	if storage.IsNotFound(err) {
		return Endpoint{}, ErrEndpointNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read webhook endpoint %d: %w", id, err)
	}
	return s.endpoint(r), nil
}

// Endpoints returns the merchant's endpoints, newest first, without those
// of single orders (notify_url), which are many and short-lived.
func (s *GormStorage) Endpoints(ctx context.Context, merchantID int64) ([]Endpoint, error) {
	return s.endpoints(ctx, "merchant_id = ? AND order_id IS NULL", merchantID)
}

// OrderEndpoint returns the endpoint of the merchant's order, or
// ErrEndpointNotFound.
func (s *GormStorage) OrderEndpoint(ctx context.Context, merchantID, orderID int64) (Endpoint, error) {
	var r endpointRow
	err := s.db.Writer(ctx).Where("merchant_id = ? AND order_id = ?", merchantID, orderID).Take(&r).Error
	if storage.IsNotFound(err) {
		return Endpoint{}, ErrEndpointNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read the webhook endpoint of order %d: %w", orderID, err)
	}
	return s.endpoint(r), nil
}

// ActiveEndpoints returns every endpoint not disabled.
func (s *GormStorage) ActiveEndpoints(ctx context.Context) ([]Endpoint, error) {
	return s.endpoints(ctx, "disabled_at IS NULL")
}

func (s *GormStorage) endpoints(ctx context.Context, where string, args ...any) ([]Endpoint, error) {
	var rows []endpointRow
	if err := s.db.Reader(ctx).Where(where, args...).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]Endpoint, len(rows))
	for i, r := range rows {
		out[i] = s.endpoint(r)
	}
	return out, nil
}

// DisableEndpoint stops the endpoint receiving events, once.
func (s *GormStorage) DisableEndpoint(ctx context.Context, merchantID, id int64, at time.Time) error {
	return s.db.Writer(ctx).Model(&endpointRow{}).Where("id = ? AND merchant_id = ? AND disabled_at IS NULL", id, merchantID).
		Update("disabled_at", at).Error
}

// Enqueue writes a delivery per event and moves the endpoint's cursor from
// from to to, in one transaction, conditional on the cursor still being at
// from: false (and nothing written) when another instance moved it first.
func (s *GormStorage) Enqueue(ctx context.Context, endpointID, from, to int64, ds []Delivery) (bool, error) {
	moved := false
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		moved = false
		res := s.db.Writer(ctx).Model(&endpointRow{}).Where("id = ? AND after_seq = ?", endpointID, from).Update("after_seq", to)
		if res.Error != nil {
			return fmt.Errorf("move the cursor of webhook endpoint %d: %w", endpointID, res.Error)
		}
		if res.RowsAffected != 1 {
			return nil
		}
		moved = true
		if len(ds) == 0 {
			return nil
		}
		rows := make([]deliveryRow, len(ds))
		for i, d := range ds {
			rows[i] = deliveryRow{EndpointID: d.EndpointID, MerchantID: d.MerchantID, EventID: d.EventID, EventSeq: d.EventSeq,
				EventType: string(d.EventType), OrderKey: d.OrderKey, Payload: string(d.Payload), State: string(Pending),
				NextAttemptAt: d.NextAttemptAt, ClaimedUntil: unclaimed, CreatedAt: d.CreatedAt, UpdatedAt: d.CreatedAt}
		}
		if err := s.db.Writer(ctx).CreateInBatches(&rows, 200).Error; err != nil {
			return fmt.Errorf("write %d webhook deliveries: %w", len(rows), err)
		}
		return nil
	})
	return moved, err
}

// Due returns up to limit pending deliveries whose time has come, nobody
// holds, and no earlier pending delivery of the same endpoint and order
// key holds back, oldest first.
func (s *GormStorage) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	var rows []deliveryRow
	err := s.db.Writer(ctx).Raw(`SELECT d.* FROM webhook_deliveries d
		WHERE d.state = ? AND d.next_attempt_at <= ? AND d.claimed_until <= ?
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.endpoint_id = d.endpoint_id AND e.order_key = d.order_key
			AND e.event_seq < d.event_seq AND e.state = ?)
		ORDER BY d.id LIMIT ?`, string(Pending), now, now, string(Pending), limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find due webhook deliveries: %w", err)
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out, nil
}

// Claim takes delivery id until until, conditional on nobody holding it
// at now; false when another instance has it.
// Like Finish it runs in InTx, which runs it again should MySQL pick it as
// a deadlock victim.
func (s *GormStorage) Claim(ctx context.Context, id int64, now, until time.Time) (bool, error) {
	got := false
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		res := s.db.Writer(ctx).Model(&deliveryRow{}).Where("id = ? AND state = ? AND claimed_until <= ? AND next_attempt_at <= ?", id, string(Pending), now, now).
			Updates(map[string]any{"claimed_until": until, "attempts": gorm.Expr("attempts + 1"), "updated_at": now})
		got = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("claim webhook delivery %d: %w", id, err)
	}
	return got, nil
}

// Finish records an attempt's outcome, conditional on the claim (until)
// still being the caller's.
func (s *GormStorage) Finish(ctx context.Context, d Delivery, until time.Time) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		err := s.db.Writer(ctx).Model(&deliveryRow{}).Where("id = ? AND claimed_until = ?", d.ID, until).
			Updates(map[string]any{"state": string(d.State), "next_attempt_at": d.NextAttemptAt, "claimed_until": unclaimed,
				"last_status": d.LastStatus, "last_error": d.LastError, "delivered_at": d.DeliveredAt, "updated_at": d.UpdatedAt}).Error
		if err != nil {
			return fmt.Errorf("record webhook delivery %d: %w", d.ID, err)
		}
		return nil
	})
}

// Deliveries returns the newest deliveries of the merchant's endpoint with
// id below before (0: no bound), newest first.
func (s *GormStorage) Deliveries(ctx context.Context, merchantID, endpointID, before int64, limit int) ([]Delivery, error) {
	q := s.db.Reader(ctx).Where("merchant_id = ? AND endpoint_id = ?", merchantID, endpointID)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []deliveryRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out, nil
}

// Delivery returns one of the merchant's deliveries.
func (s *GormStorage) Delivery(ctx context.Context, merchantID, id int64) (Delivery, error) {
	var r deliveryRow
	err := s.db.Writer(ctx).Where("id = ? AND merchant_id = ?", id, merchantID).Take(&r).Error
	if storage.IsNotFound(err) {
		return Delivery{}, ErrDeliveryNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("read webhook delivery %d: %w", id, err)
	}
	return r.delivery(), nil
}

// Requeue makes a delivery pending again, due at now, with a fresh count
// of attempts.
func (s *GormStorage) Requeue(ctx context.Context, merchantID, id int64, now time.Time) error {
	return s.db.Writer(ctx).Model(&deliveryRow{}).Where("id = ? AND merchant_id = ?", id, merchantID).
		Updates(map[string]any{"state": string(Pending), "attempts": 0, "next_attempt_at": now, "claimed_until": unclaimed, "updated_at": now}).Error
}

// SealPlaintextSecrets seals the secrets of endpoints written before they
// were sealed and returns how many it sealed, and those of the newest
// sealed endpoints (up to probeSealed) whose secret does not open (wrong
// data key, or copied between merchants), which the dispatcher cannot sign
// for. Run at start-up; once every row is sealed it changes nothing.
func (s *GormStorage) SealPlaintextSecrets(ctx context.Context) (sealed int, unreadable []int64, err error) {
	var plain []endpointRow
	if err := s.db.Reader(ctx).Select("id", "merchant_id", "secret").Where("secret NOT LIKE ?", seal.Prefix+"%").Find(&plain).Error; err != nil {
		return 0, nil, fmt.Errorf("seal webhook secrets: %w", err)
	}
	for _, r := range plain {
		v, err := s.sealer.Seal(secretPlace(r.MerchantID), []byte(r.Secret))
		if err != nil {
			return sealed, nil, fmt.Errorf("seal webhook secrets: %w", err)
		}
		// Conditional on the plain value, so a concurrent start-up seals once.
		res := s.db.Writer(ctx).Model(&endpointRow{}).Where("id = ? AND secret = ?", r.ID, r.Secret).Update("secret", v)
		if res.Error != nil {
			return sealed, nil, fmt.Errorf("seal webhook secrets: %w", res.Error)
		}
		sealed += int(res.RowsAffected)
	}
	var newest []endpointRow
	if err := s.db.Reader(ctx).Select("id", "merchant_id", "secret").Where("secret LIKE ?", seal.Prefix+"%").
		Order("id DESC").Limit(probeSealed).Find(&newest).Error; err != nil {
		return sealed, nil, fmt.Errorf("probe webhook secrets: %w", err)
	}
	for _, r := range newest {
		if _, _, err := s.sealer.Open(secretPlace(r.MerchantID), r.Secret); err != nil {
			unreadable = append(unreadable, r.ID)
		}
	}
	return sealed, unreadable, nil
}

// probeSealed is how many of the newest sealed endpoints start-up opens:
// enough to tell a wrong data key, without reading every order's endpoint.
const probeSealed = 100
