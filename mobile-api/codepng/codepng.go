// Package codepng draws scannable codes as PNG pictures for the HTTP layer:
// a collection QR for the customer's wallet to scan, a store's static QR
// sticker, a ticket, and the payment code as the wallet app shows it (a
// Code 128 barcode and a QR, which the cashier's scanner reads). It knows
// nothing of orders or HTTP: it turns a payload into a PNG.
package codepng

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	qrcode "github.com/skip2/go-qrcode"
)

// QR draws text as a QR code, size pixels square, with medium (15%) error
// correction: enough for a phone screen or a printed sticker.
func QR(text string, size int) ([]byte, error) {
	pic, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("draw qr code: %w", err)
	}
	return pic, nil
}

// Barcode draws text as a Code 128 barcode about width pixels wide and a
// third of that high, with the quiet zone of ten modules a scanner needs on
// either side.
func Barcode(text string, width int) ([]byte, error) {
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
