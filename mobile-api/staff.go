package mobileapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk"
	"github.com/paydesk/paydesk/cashier"
	"github.com/paydesk/paydesk/rbac"
)

type loginRequest struct {
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

type staffJSON struct {
	ID         int64     `json:"id"`
	Role       string    `json:"role"`
	MerchantID int64     `json:"merchant_id"`
	StoreID    *int64    `json:"store_id"` // null for an owner, who has no store
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
}

func staffView(s cashier.Staff) staffJSON {
	return staffJSON{ID: s.ID, Role: string(s.Role), MerchantID: s.MerchantID, StoreID: optionalID(s.StoreID), Name: s.Name,
		Phone: s.Phone, Status: s.Status, CreatedAt: s.CreatedAt}
}

type tokensJSON struct {
	AccessToken  string     `json:"access_token"`
	RefreshToken string     `json:"refresh_token"`
	TokenType    string     `json:"token_type"`
	ExpiresIn    int        `json:"expires_in"`
	Staff        *staffJSON `json:"staff,omitempty"`
}

func tokensView(p rbac.Pair) tokensJSON {
	return tokensJSON{AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "Bearer", ExpiresIn: p.ExpiresIn}
}

func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if !bindJSON(c, &req) {
		return
	}
	// Here and in every handler the services get c.Request.Context(), not
	// c: see authenticate.
	st, err := s.cfg.Staff.Login(c.Request.Context(), req.Phone, req.Password, c.ClientIP())
	if err != nil {
		writeError(c, err)
		return
	}
	pair, err := s.cfg.Tokens.Issue(c.Request.Context(), rbac.Principal{Kind: rbac.KindStaff, ID: st.ID, MerchantID: st.MerchantID, StoreID: st.StoreID, Role: st.Role})
	if err != nil {
		writeError(c, err)
		return
	}
	out := tokensView(pair)
	v := staffView(st)
	out.Staff = &v
	c.JSON(http.StatusOK, out)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) refresh(c *gin.Context) {
	var req refreshRequest
	if !bindJSON(c, &req) {
		return
	}
	pair, err := s.cfg.Tokens.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, tokensView(pair))
}

func (s *Server) logout(c *gin.Context) {
	var req refreshRequest
	if !bindJSON(c, &req) {
		return
	}
	if err := s.cfg.Tokens.Logout(c.Request.Context(), req.RefreshToken); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listStaff(c *gin.Context) {
	list, err := s.cfg.Staff.List(c.Request.Context(), actor(c))
	if err != nil {
		writeError(c, err)
		return
	}
	// One page: a merchant's staff is a short list, but it has the shape of
	// every list, {items, next_cursor}.
	c.JSON(http.StatusOK, pageOf(list, staffView, ""))
}

type addStaffRequest struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Password string `json:"password"`
	Role     string `json:"role"`
	StoreID  int64  `json:"store_id"`
}

func (s *Server) addStaff(c *gin.Context) {
	var req addStaffRequest
	if !bindJSON(c, &req) {
		return
	}
	st, err := s.cfg.Staff.Add(c.Request.Context(), actor(c), cashier.NewStaff{Name: req.Name, Phone: req.Phone, Password: req.Password,
		Role: rbac.Role(req.Role), StoreID: req.StoreID})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, staffView(st))
}

// pathID reads the :id path parameter; a malformed id is simply not found.
func pathID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, paydesk.ErrNotFound.WithMessage("no object with id %q", truncate(c.Param("id"), 32)))
		return 0, false
	}
	return id, true
}

func (s *Server) disableStaff(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, err := s.cfg.Staff.Disable(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	// Committed (sessions ended, the staff.disabled event written): this
	// instance's sockets of theirs close now, not when the event comes round.
	for _, hook := range s.cfg.OnStaffDisabled {
		hook(st.MerchantID, st.ID)
	}
	c.JSON(http.StatusOK, staffView(st))
}

func (s *Server) enableStaff(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, err := s.cfg.Staff.Enable(c.Request.Context(), actor(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, staffView(st))
}

type resetPasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) resetPassword(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req resetPasswordRequest
	if !bindJSON(c, &req) {
		return
	}
	// A reset password logs the staff member out everywhere (cashier.Service.ResetPassword).
	if err := s.cfg.Staff.ResetPassword(c.Request.Context(), actor(c), id, req.Password); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// optionalID is an id that may be absent: 0 is null.
func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
