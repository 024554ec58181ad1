package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/internal/app"
	mobileapi "github.com/paydesk/paydesk/mobile-api"
	"github.com/paydesk/paydesk/push"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/sms"
)

// build turns the configuration into the composition root's settings and
// builds the services (internal/app). The ledger's poster goroutine and
// the bank simulator run until Close; the background jobs until Close
// once Run has started them.
func (m *Main) build(ctx context.Context) error {
	c := &m.Config
	if c.Env == EnvDev && (c.Secret == "" || c.Secret == DevSecret) {
		c.Secret = DevSecret
		m.Logger.Warn("dev mode: signing tokens with the built-in development secret; anyone can forge them. Set PAYDESK_SECRET for any shared deployment.")
	}
	if c.devDataKeyInForce {
		m.Logger.Warn("dev mode: wallet, webhook and checkout secrets are sealed with the built-in development data key; anyone with the database can mint payment codes and sign webhooks. Set PAYDESK_DATA_KEY for any shared deployment.")
	}
	var channel sms.Channel // none: registration answers SMS_UNAVAILABLE
	if c.SMS == "log" {
		m.devSMS = sms.NewDev(m.Logger)
		channel = m.devSMS
		m.Logger.Warn("dev mode: SMS codes are logged and answered as dev_code, not sent (PAYDESK_SMS=log)")
	} else {
		m.Logger.Warn("no SMS channel (PAYDESK_SMS=none): wallet registration answers 503 SMS_UNAVAILABLE")
	}
	a, err := app.Build(ctx, m.DB, app.Settings{
		Secret: []byte(c.Secret),
		// A logout closes the login's websockets, through the hub that Run
		// starts later.
		Tokens:              rbac.TokenOptions{SessionEnded: mobileapi.SessionEnded(func() *push.Hub { return m.Push })},
		Policy:              c.Policy,
		DataKey:             []byte(c.dataKey),
		APIKeyPepper:        apiKeyPepper(c.dataKey),
		PublicURL:           c.PublicURL,
		Bank:                m.bankConfig(),
		SMS:                 channel,
		WebhookAllowPrivate: c.WebhookAllowPrivate == "true",
		Settlement:          m.settlementConfig(),
		Jobs: app.Schedule{CloseEvery: m.CloseInterval, SweepEvery: m.SweepInterval, SettleEvery: c.Settle.every,
			EventRetention: c.eventRetention},
		CacheTTL: c.cacheTTL,
		Logger:   m.Logger,
	}, paydesk.SystemClock)
	if err != nil {
		return err
	}
	m.App = a
	return nil
}

// apiKeyPepper derives the key API keys are hashed under from the data key,
// the one secret meant to stay the same for the life of the database (the
// token secret may rotate, logging everyone out; keys must outlive that).
// The label keeps it apart from the data key's other use.
func apiKeyPepper(dataKey string) []byte {
	h := hmac.New(sha256.New, []byte(dataKey))
	h.Write([]byte("paydesk api key pepper v1"))
	return h.Sum(nil)
}

// devCodes answers the last SMS code per phone in dev mode, for the
// apps' tests (dev_code); nil otherwise.
func (m *Main) devCodes() func(string) string {
	if m.Config.Env != EnvDev || m.devSMS == nil {
		return nil
	}
	return m.devSMS.LastCode
}
