package main

import (
	"fmt"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/ledger"
	"github.com/paydesk/paydesk/merchant"
	"github.com/paydesk/paydesk/rbac"
	"github.com/paydesk/paydesk/storage"
)

// Services are the domain services every command shares, built on the
// opened database.
type Services struct {
	Ledger    *ledger.Ledger
	Merchants *merchant.Service
	Tokens    *rbac.Tokens
	Enforcer  *rbac.Enforcer
}

// wire builds the services. The ledger's poster goroutine runs until Close.
func (m *Main) wire() error {
	c := &m.Config
	if c.Env == EnvDev && (c.Secret == "" || c.Secret == DevSecret) {
		c.Secret = DevSecret
		m.Logger.Warn("dev mode: signing tokens with the built-in development secret; anyone can forge them. Set PAYDESK_SECRET for any shared deployment.")
	}
	clock := paydesk.SystemClock
	enf, err := rbac.NewEnforcer(c.Policy)
	if err != nil {
		return fmt.Errorf("load access policy: %w", err)
	}
	tokens, err := rbac.NewTokens(rbac.NewGormSessionStore(m.DB), []byte(c.Secret), clock, rbac.TokenOptions{})
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	l := ledger.New(ledger.NewGormStore(m.DB), ledger.WithClock(clock))
	m.Services = Services{
		Ledger:    l,
		Merchants: merchant.NewService(merchant.NewGormStorage(m.DB), l, storage.NewAttempts(m.DB, clock), clock),
		Tokens:    tokens,
		Enforcer:  enf,
	}
	return nil
}
