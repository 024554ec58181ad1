package mobileapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paydesk/paydesk/mobile-api/codepng"
)

// The sizes, in pixels, a PNG route draws at unless ?size= says otherwise.
// The bounds keep a client from asking for a picture that costs the server
// more than a QR is worth.
const (
	defaultImageSize = 512
	minImageSize     = 128
	maxImageSize     = 1024
)

// imageSize reads the optional ?size= of a PNG route; on failure it has
// answered 400 and returns false.
func imageSize(c *gin.Context) (int, bool) {
	n, err := parseBoundedInt(c.Query("size"), "size", defaultImageSize, minImageSize, maxImageSize)
	if err != nil {
		writeError(c, err)
		return 0, false
	}
	return int(n), true
}

// qrOf serves, as a QR picture of ?size=, the payload that payload finds
// for the route's :id (an order, a store, a ticket); its error answers
// instead.
func qrOf(payload func(c *gin.Context, id int64) (string, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := pathID(c)
		if !ok {
			return
		}
		size, ok := imageSize(c)
		if !ok {
			return
		}
		text, err := payload(c, id)
		if err != nil {
			writeError(c, err)
			return
		}
		pic, err := codepng.QR(text, size)
		writePNG(c, pic, err)
	}
}

// writePNG answers a picture. Codes change (a payment code every few
// seconds) and some are secrets, so no cache may keep one.
func writePNG(c *gin.Context, pic []byte, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", pic)
}
