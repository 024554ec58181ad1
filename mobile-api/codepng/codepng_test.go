package codepng_test

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/paydesk/paydesk/mobile-api/codepng"
)

func decode(t *testing.T, pic []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func TestQR(t *testing.T) {
	pic, err := codepng.QR("http://localhost:8080/p/o/abc", 256)
	if err != nil {
		t.Fatal(err)
	}
	if b := decode(t, pic).Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("QR is %v, want 256×256", b)
	}
	again, _ := codepng.QR("http://localhost:8080/p/o/abc", 256)
	if !bytes.Equal(pic, again) {
		t.Error("the same payload drew two different pictures")
	}
	if _, err := codepng.QR(string(make([]byte, 4000)), 256); err == nil {
		t.Error("a payload too long for any QR version was drawn")
	}
}

// A payment code is 18 digits; its barcode keeps a ten-module quiet zone
// on each side, with its first column white.
func TestBarcode(t *testing.T) {
	pic, err := codepng.Barcode("761234567812345678", 512)
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, pic)
	b := img.Bounds()
	if b.Dx() > 512 || b.Dx() < 256 || b.Dy() != 512/3 {
		t.Errorf("barcode is %v, want about 512 wide and 170 high", b)
	}
	if r, _, _, _ := img.At(0, b.Dy()/2).RGBA(); r != 0xffff {
		t.Error("no quiet zone on the left")
	}
	if _, err := codepng.Barcode("支付", 512); err == nil {
		t.Error("text Code 128 cannot carry was drawn")
	}
}
