package merchant

import (
	"context"
	"strings"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
)

// NewStore is a store to open.
type NewStore struct {
	Name    string
	Address string
}

// StoreChange edits a store; nil fields stay as they are.
type StoreChange struct {
	Name    *string
	Address *string
}

// maxAddress bounds a store's address, in characters.
const maxAddress = 200

func validAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len([]rune(s)) > maxAddress {
		return "", paydesk.ErrInvalid.WithMessage("address must be at most %d characters", maxAddress)
	}
	return s, nil
}

// AddStore opens another store; owners only (the policy says so, and so do we).
func (s *Service) AddStore(ctx context.Context, actor cashier.Actor, name string) (Store, error) {
	return s.OpenStore(ctx, actor, NewStore{Name: name})
}

// OpenStore opens another store with its address; owners only. The change
// is audited.
func (s *Service) OpenStore(ctx context.Context, actor cashier.Actor, ns NewStore) (Store, error) {
	if actor.Role != rbac.Owner {
		return Store{}, paydesk.ErrForbidden
	}
	var st Store
	err := s.store.InTx(ctx, func(ctx context.Context) (err error) {
		if st, err = s.createStore(ctx, actor.MerchantID, ns); err != nil {
			return err
		}
		return s.staff.Record(ctx, actor, cashier.AuditStoreCreated, st.ID, st.Name)
	})
	return st, err
}

func (s *Service) createStore(ctx context.Context, merchantID int64, ns NewStore) (Store, error) {
	name, err := validName(ns.Name, "name")
	if err != nil {
		return Store{}, err
	}
	address, err := validAddress(ns.Address)
	if err != nil {
		return Store{}, err
	}
	st := Store{MerchantID: merchantID, Name: name, Address: address, QRToken: randomToken(18), CreatedAt: s.clock()}
	return st, s.store.CreateStore(ctx, &st)
}

// UpdateStore renames a store or changes its address; owners only. A store
// of another merchant is ErrStoreNotFound. An edit that changes nothing is
// not audited.
func (s *Service) UpdateStore(ctx context.Context, actor cashier.Actor, id int64, ch StoreChange) (Store, error) {
	if actor.Role != rbac.Owner {
		return Store{}, paydesk.ErrForbidden
	}
	var st Store
	err := s.store.InTx(ctx, func(ctx context.Context) (err error) {
		if st, err = s.store.Store(ctx, actor.MerchantID, id); err != nil {
			return asNotFound(err, ErrStoreNotFound)
		}
		before := st
		if ch.Name != nil {
			if st.Name, err = validName(*ch.Name, "name"); err != nil {
				return err
			}
		}
		if ch.Address != nil {
			if st.Address, err = validAddress(*ch.Address); err != nil {
				return err
			}
		}
		if st == before {
			return nil
		}
		if err := s.store.UpdateStore(ctx, st); err != nil {
			return err
		}
		return s.staff.Record(ctx, actor, cashier.AuditStoreUpdated, st.ID, st.Name)
	})
	return st, err
}

// Stores lists the stores the actor may see: all of the merchant's for an
// owner, their own for others.
func (s *Service) Stores(ctx context.Context, actor cashier.Actor) ([]Store, error) {
	all, err := s.store.Stores(ctx, actor.MerchantID)
	if err != nil || actor.Role == rbac.Owner {
		return all, err
	}
	for _, st := range all {
		if st.ID == actor.StoreID {
			return []Store{st}, nil
		}
	}
	return nil, nil
}

// Store returns one of the merchant's stores, or ErrStoreNotFound when it
// is not in the actor's scope.
func (s *Service) Store(ctx context.Context, actor cashier.Actor, id int64) (Store, error) {
	if actor.Role != rbac.Owner && actor.StoreID != id {
		return Store{}, ErrStoreNotFound
	}
	return s.store.Store(ctx, actor.MerchantID, id)
}
