package tenants

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"
)

func tinyJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 16, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegSegment(marker byte, data []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(data)+2))
	return append(s, data...)
}

// exifBigEndian is an Exif block whose IFD0 holds the orientation and a
// GPS pointer (to nowhere: only its presence matters here).
func exifBigEndian(orientation uint16) []byte {
	b := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08")
	b = binary.BigEndian.AppendUint16(b, 2)
	b = append(b, 0x01, 0x12, 0, 3, 0, 0, 0, 1)
	b = binary.BigEndian.AppendUint16(b, orientation)
	b = append(b, 0, 0)
	b = append(b, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x40)
	return append(b, 0, 0, 0, 0)
}

// TestJPEGKeepsOrientation: a portrait photo keeps its orientation (in a
// fresh Exif block holding nothing else), so it is not shown sideways.
func TestJPEGKeepsOrientation(t *testing.T) {
	clean := tinyJPEG(t)
	in := append(append(bytes.Clone(clean[:2]), jpegSegment(0xE1, exifBigEndian(6))...), clean[2:]...)
	out, err := stripJPEG(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte{0x88, 0x25}) {
		t.Fatal("the GPS pointer survived")
	}
	i := bytes.Index(out, []byte("Exif\x00\x00"))
	if i < 0 || readOrientation(out[i+6:]) != 6 {
		t.Fatalf("orientation lost: %x", out[:48])
	}
	if len(out) != len(clean)+36 {
		t.Fatalf("%d bytes, want the clean image and a 36-byte Exif segment", len(out))
	}
	// control: the default orientation needs no Exif at all
	in = append(append(bytes.Clone(clean[:2]), jpegSegment(0xE1, exifBigEndian(1))...), clean[2:]...)
	if out, err := stripJPEG(in); err != nil || !bytes.Equal(out, clean) {
		t.Fatalf("orientation 1: %v", err)
	}
}

// TestJPEGSegmentsAnywhere: metadata between scans goes too, the JFIF
// header stays without its thumbnail, the Adobe and ICC segments stay, and
// a file without its end marker is completed.
func TestJPEGSegmentsAnywhere(t *testing.T) {
	clean := tinyJPEG(t)
	jfif := append([]byte("JFIF\x00\x01\x02\x00\x00\x48\x00\x48\x02\x01"), make([]byte, 6)...) // a 2x1 RGB thumbnail
	adobe := []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")
	icc := []byte("ICC_PROFILE\x00\x01\x01profile")
	var in bytes.Buffer
	in.Write(clean[:2])
	in.Write(jpegSegment(0xE0, jfif))
	in.Write(jpegSegment(0xEE, adobe))
	in.Write(jpegSegment(0xE2, icc))
	in.Write(clean[2 : len(clean)-2])
	in.Write(jpegSegment(0xFE, []byte("comment after the scan")))
	in.Write(clean[len(clean)-2:])
	out, err := stripJPEG(in.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("comment after")) {
		t.Fatal("a comment after the scan survived")
	}
	wantJFIF := jpegSegment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x48\x00\x48\x00\x00"))
	if !bytes.HasPrefix(out[2:], wantJFIF) || !bytes.Contains(out, jpegSegment(0xEE, adobe)) || !bytes.Contains(out, jpegSegment(0xE2, icc)) {
		t.Fatalf("JFIF, Adobe or ICC segment lost or kept wrongly: %q", out[:64])
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("stripped image does not decode: %v", err)
	}
	noEnd := clean[:len(clean)-2]
	if out, err := stripJPEG(noEnd); err != nil || !bytes.Equal(out, clean) {
		t.Fatalf("a JPEG without its end marker: %v", err)
	}
}

func pngChunkOf(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return append(c, 0, 0, 0, 0) // the CRC is not checked here
}

func TestPNGChunks(t *testing.T) {
	head := append(bytes.Clone(pngSignature), pngChunkOf("IHDR", make([]byte, 13))...)
	idat, end := pngChunkOf("IDAT", []byte("pixels")), pngChunkOf("IEND", nil)
	keep := pngChunkOf("pHYs", make([]byte, 9))
	var in []byte
	for _, c := range [][]byte{head, pngChunkOf("iTXt", []byte("Author\x00\x00\x00\x00\x00Name")), keep, pngChunkOf("prVW", []byte("preview")), idat, end, []byte("appended")} {
		in = append(in, c...)
	}
	out, err := stripPNG(in)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append(bytes.Clone(head), keep...), idat...), end...)
	if !bytes.Equal(out, want) {
		t.Fatalf("got %q", out)
	}
	// an unknown critical chunk cannot be shown: refused rather than guessed
	bad := append(append(bytes.Clone(head), pngChunkOf("ABCD", nil)...), end...)
	if _, err := stripPNG(bad); err == nil {
		t.Fatal("an unknown critical chunk was accepted")
	}
}

func webpChunk(typ string, data []byte) []byte {
	c := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func riff(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// TestWebPChunks: EXIF and XMP chunks go, the VP8X flags and the RIFF size
// follow, the image chunks are kept byte for byte.
func TestWebPChunks(t *testing.T) {
	const alpha, exif, xmp = 0x10, 0x08, 0x04
	vp8x := []byte{alpha | exif | xmp, 0, 0, 0, 15, 0, 0, 7, 0, 0}
	img := webpChunk("VP8L", []byte("lossless bits")) // odd size: padded
	in := riff(webpChunk("VP8X", vp8x), img, webpChunk("EXIF", []byte("MM\x00*GPS")), webpChunk("XMP ", []byte("<x:xmpmeta/>")))
	in = append(in, "trailing"...)
	out, err := stripWebP(in)
	if err != nil {
		t.Fatal(err)
	}
	wantX := bytes.Clone(vp8x)
	wantX[0] = alpha
	if want := riff(webpChunk("VP8X", wantX), img); !bytes.Equal(out, want) {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	if _, err := stripWebP(in[:len(in)-30]); err == nil {
		t.Fatal("a truncated WebP was accepted")
	}
}

// TestStripDamaged: no truncation of a valid image makes a stripper panic;
// each either fails or returns something.
func TestStripDamaged(t *testing.T) {
	jp := append(append(bytes.Clone(tinyJPEG(t)[:2]), jpegSegment(0xE1, exifBigEndian(6))...), tinyJPEG(t)[2:]...)
	inputs := map[string]func([]byte) ([]byte, error){"jpeg": stripJPEG, "png": stripPNG, "webp": stripWebP}
	samples := map[string][]byte{
		"jpeg": jp,
		"png":  append(append(bytes.Clone(pngSignature), pngChunkOf("IHDR", make([]byte, 13))...), pngChunkOf("IEND", nil)...),
		"webp": riff(webpChunk("VP8X", make([]byte, 10)), webpChunk("VP8L", []byte("abc"))),
	}
	for kind, strip := range inputs {
		s := samples[kind]
		for n := 0; n < len(s); n++ {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s cut at %d bytes: panic %v", kind, n, p)
					}
				}()
				_, _ = strip(s[:n])
			}()
		}
	}
}
