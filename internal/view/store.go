package view

import (
	"fmt"
	"time"

	"github.com/paydesk/paydesk/merchant"
)

// Store is a store as the owner's app shows it (GET /v1/stores, /v1/me)
// and the operator's `paydesk store add` prints it. The static QR's token
// is not in it: its picture is at qr_png.
type Store struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	QRPNG     string    `json:"qr_png"`
	CreatedAt time.Time `json:"created_at"`
}

// StoreOf is st's JSON shape.
func StoreOf(st merchant.Store) Store {
	return Store{ID: st.ID, Name: st.Name, Address: st.Address, QRPNG: fmt.Sprintf("/v1/stores/%d/qr.png", st.ID), CreatedAt: st.CreatedAt}
}
