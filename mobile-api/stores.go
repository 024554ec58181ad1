package mobileapi

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/internal/view"
	"github.com/paydesk/paydesk/merchant"
)

// listStores is GET /v1/stores: the merchant's stores, owners only. A
// merchant has a handful, so the list is one page (next_cursor null).
func (s *Server) listStores(c *gin.Context) {
	list, err := s.cfg.Merchants.Stores(c.Request.Context(), actor(c))
	if err != nil {
		writeError(c, err)
		return
	}
	items := make([]view.Store, len(list))
	for i, st := range list {
		items[i] = view.StoreOf(st)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": nil})
}

type storeRequest struct {
	Name    *string `json:"name"`
	Address *string `json:"address"`
}

// addStore is POST /v1/stores {name, address?}: 201 with Location.
func (s *Server) addStore(c *gin.Context) {
	var req storeRequest
	if !bindJSON(c, &req) {
		return
	}
	ns := merchant.NewStore{}
	if req.Name != nil {
		ns.Name = *req.Name
	}
	if req.Address != nil {
		ns.Address = *req.Address
	}
	st, err := s.cfg.Merchants.OpenStore(c.Request.Context(), actor(c), ns)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/v1/stores/%d", st.ID))
	c.JSON(http.StatusCreated, view.StoreOf(st))
}

// updateStore is PATCH /v1/stores/{id} {name?, address?}: fields left out
// stay as they are.
func (s *Server) updateStore(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req storeRequest
	if !bindJSON(c, &req) {
		return
	}
	st, err := s.cfg.Merchants.UpdateStore(c.Request.Context(), actor(c), id, merchant.StoreChange{Name: req.Name, Address: req.Address})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, view.StoreOf(st))
}
