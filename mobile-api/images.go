package mobileapi

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"
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

// qrPNG draws text as a QR code, size pixels square, with medium (15%)
// error correction: enough for a phone screen or a printed sticker.
func qrPNG(text string, size int) ([]byte, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("draw qr code: %w", err)
	}
	return png, nil
}

// barcodePNG draws text as a Code 128 barcode about width pixels wide and a
// third of that high, with the quiet zone of ten modules a scanner needs on
// either side.
func barcodePNG(text string, width int) ([]byte, error) {
	bc, err := code128.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("draw barcode: %w", err)
	}
	modules := bc.Bounds().Dx() + 20
	scale := max(width/modules, 1)
	height := max(width/3, 32)
	scaled, err := barcode.Scale(bc, bc.Bounds().Dx()*scale, height)
	if err != nil {
		return nil, fmt.Errorf("draw barcode: %w", err)
	}
	img := image.NewGray(image.Rect(0, 0, modules*scale, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(img, scaled.Bounds().Add(image.Pt(10*scale, 0)), scaled, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("draw barcode: %w", err)
	}
	return buf.Bytes(), nil
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
