package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/pos"
)

// figuresJSON are the takings of a period, in minor units.
type figuresJSON struct {
	Gross      int64 `json:"gross"`
	Refunded   int64 `json:"refunded"`
	Net        int64 `json:"net"`
	PaidOrders int64 `json:"paid_orders"`
	Refunds    int64 `json:"refunds"`
}

func figuresView(f pos.Figures) figuresJSON {
	return figuresJSON{Gross: amountOf(f.Gross), Refunded: amountOf(f.Refunded), Net: amountOf(f.Net), PaidOrders: f.PaidOrders, Refunds: f.Refunds}
}

type hourJSON struct {
	Hour int `json:"hour"`
	figuresJSON
}

type todayJSON struct {
	Date     string `json:"date"`
	TimeZone string `json:"time_zone"`
	Currency string `json:"currency"`
	figuresJSON
	Hours []hourJSON `json:"hours"`
}

// statsToday is GET /v1/stats/today (今日数据): today so far in the
// merchant's time zone, for the caller's scope (a cashier's own orders, a
// manager's store, an owner's merchant), with all 24 hours.
func (s *Server) statsToday(c *gin.Context) {
	t, err := s.cfg.Stats.TodayStats(c.Request.Context(), actor(c))
	if err != nil {
		writeError(c, err)
		return
	}
	out := todayJSON{Date: t.Date, TimeZone: t.TimeZone, Currency: string(t.Currency), figuresJSON: figuresView(t.Figures), Hours: make([]hourJSON, len(t.Hours))}
	for i, h := range t.Hours {
		out.Hours[i] = hourJSON{Hour: h.Hour, figuresJSON: figuresView(h.Figures)}
	}
	c.JSON(http.StatusOK, out)
}

type dayJSON struct {
	Date string `json:"date"`
	figuresJSON
}

type dailyJSON struct {
	TimeZone string    `json:"time_zone"`
	Currency string    `json:"currency"`
	Days     []dayJSON `json:"days"`
}

// statsDaily is GET /v1/stats/daily?days=30: the last days days (1 to 90,
// default 30, today included), oldest first, for the caller's scope.
func (s *Server) statsDaily(c *gin.Context) {
	days, err := parseBoundedInt(c.Query("days"), "days", 30, 1, pos.MaxHistoryDays)
	if err != nil {
		writeError(c, err)
		return
	}
	d, err := s.cfg.Stats.DailyStats(c.Request.Context(), actor(c), int(days))
	if err != nil {
		writeError(c, err)
		return
	}
	out := dailyJSON{TimeZone: d.TimeZone, Currency: string(d.Currency), Days: make([]dayJSON, len(d.Days))}
	for i, day := range d.Days {
		out.Days[i] = dayJSON{Date: day.Date, figuresJSON: figuresView(day.Figures)}
	}
	c.JSON(http.StatusOK, out)
}
