package tenants

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Image metadata is removed without re-encoding: the stripped file holds the
// very same compressed image data, so nothing is lost, and no image decoder
// (a large attack surface) runs on uploaded files. What a camera or phone
// adds about the person who took the picture, where and when (Exif with its
// GPS position, XMP, IPTC, comments, text chunks, thumbnails that may show
// the uncropped original, extra pictures appended after the image) goes;
// what is needed to show the picture as taken stays: JPEG's JFIF header
// (without its thumbnail), Adobe colour-transform marker and ICC colour
// profile, and the Exif orientation (rewritten as a fresh Exif block holding
// that one value, so portrait photos do not turn sideways); PNG's
// transparency, colour and animation chunks; WebP's image, alpha, animation
// and ICC chunks.

var errDamagedImage = errors.New("the image is damaged or truncated")

// stripJPEG returns the JPEG without metadata segments: APP1 to APP15 (Exif,
// XMP, IPTC, MPF and the rest) and COM are dropped except an APP2 ICC
// profile and an APP14 Adobe marker, the APP0 JFIF header loses its
// thumbnail, and everything after the end-of-image marker is cut (phones
// append further pictures there, each with its own Exif). Segments are
// walked through the whole file, between scans too (progressive JPEGs).
func stripJPEG(in []byte) ([]byte, error) {
	if len(in) < 4 || in[0] != 0xFF || in[1] != 0xD8 {
		return nil, errDamagedImage
	}
	var head, body []byte // head: JFIF and orientation; body: the rest, in order
	orientation := 0
	i := 2
	for {
		if i >= len(in) || in[i] != 0xFF {
			return nil, errDamagedImage
		}
		for i+1 < len(in) && in[i+1] == 0xFF { // fill bytes
			i++
		}
		if i+1 >= len(in) {
			return nil, errDamagedImage
		}
		marker := in[i+1]
		i += 2
		switch {
		case marker == 0xD9: // EOI: anything after it is dropped
			out := make([]byte, 0, 2+len(head)+36+len(body)+2)
			out = append(out, 0xFF, 0xD8)
			out = append(out, head...)
			if orientation > 1 {
				out = append(out, exifOrientation(orientation)...)
			}
			out = append(out, body...)
			return append(out, 0xFF, 0xD9), nil
		case marker >= 0xD0 && marker <= 0xD7, marker == 0x01: // no length
			body = append(body, 0xFF, marker)
			continue
		}
		if i+2 > len(in) {
			return nil, errDamagedImage
		}
		n := int(binary.BigEndian.Uint16(in[i:]))
		if n < 2 || i+n > len(in) {
			return nil, errDamagedImage
		}
		seg, data := in[i-2:i+n], in[i+2:i+n]
		i += n
		switch {
		case marker == 0xE0: // APP0
			if len(head) == 0 && len(data) >= 14 && bytes.HasPrefix(data, []byte("JFIF\x00")) {
				jfif := append([]byte{0xFF, 0xE0, 0, 16}, data[:14]...)
				jfif[2+2+12], jfif[2+2+13] = 0, 0 // no thumbnail
				head = jfif
			}
		case marker == 0xE1: // APP1: Exif, XMP
			if orientation == 0 && bytes.HasPrefix(data, []byte("Exif\x00\x00")) {
				orientation = readOrientation(data[6:])
				if orientation == 0 {
					orientation = 1
				}
			}
		case marker == 0xE2: // APP2: keep an ICC profile, drop MPF and FlashPix
			if bytes.HasPrefix(data, []byte("ICC_PROFILE\x00")) {
				body = append(body, seg...)
			}
		case marker == 0xEE: // APP14: Adobe's colour transform decides how CMYK decodes
			if len(data) >= 12 && bytes.HasPrefix(data, []byte("Adobe")) {
				body = append(body, 0xFF, 0xEE, 0, 14)
				body = append(body, data[:12]...)
			}
		case marker >= 0xE3 && marker <= 0xEF, marker == 0xFE: // other APPn, COM
		default:
			body = append(body, seg...)
		}
		if marker != 0xDA { // SOS: the entropy-coded data follows
			continue
		}
		j := i
		for j < len(in) {
			if in[j] != 0xFF {
				j++
				continue
			}
			if j+1 < len(in) && (in[j+1] == 0x00 || (in[j+1] >= 0xD0 && in[j+1] <= 0xD7)) {
				j += 2 // a stuffed 0xFF or a restart marker: still data
				continue
			}
			break
		}
		body = append(body, in[i:j]...)
		i = j
		if i >= len(in) { // no end marker: some cameras omit it
			return stripJPEG(append(bytes.Clone(in), 0xFF, 0xD9))
		}
	}
}

// readOrientation reads the Orientation tag (0x0112) of IFD0 of a TIFF
// structure (the body of an Exif segment); 0 when absent or unreadable.
func readOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(tiff[4:]))
	if off < 8 || off+2 > len(tiff) {
		return 0
	}
	count := int(bo.Uint16(tiff[off:]))
	for k := 0; k < count; k++ {
		e := off + 2 + 12*k
		if e+12 > len(tiff) {
			return 0
		}
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 { // SHORT
			if v := int(bo.Uint16(tiff[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 0
		}
	}
	return 0
}

// exifOrientation is an APP1 Exif segment holding only the orientation.
func exifOrientation(v int) []byte {
	seg := []byte{
		0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(v), 0, 0, // Orientation, SHORT, 1 value
		0, 0, 0, 0, // no next IFD
	}
	return seg
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngKept are the ancillary PNG chunks that describe how to show the image
// (transparency, colour, physical size, animation); every other ancillary
// chunk (tEXt, zTXt, iTXt, eXIf, tIME, private chunks) is dropped.
var pngKept = map[string]bool{
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true,
	"pHYs": true, "bKGD": true, "cICP": true, "mDCV": true, "cLLI": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

// stripPNG returns the PNG with only its critical chunks and the ancillary
// chunks of pngKept, ending at IEND (appended data is cut).
func stripPNG(in []byte) ([]byte, error) {
	if !bytes.HasPrefix(in, pngSignature) {
		return nil, errDamagedImage
	}
	out := append(make([]byte, 0, len(in)), pngSignature...)
	for i := len(pngSignature); ; {
		if i+12 > len(in) {
			return nil, errDamagedImage
		}
		n := binary.BigEndian.Uint32(in[i:])
		if n > 1<<31-1 || uint64(i)+12+uint64(n) > uint64(len(in)) {
			return nil, errDamagedImage
		}
		typ := string(in[i+4 : i+8])
		end := i + 12 + int(n)
		critical := typ[0]&0x20 == 0
		switch {
		case critical && typ != "IHDR" && typ != "PLTE" && typ != "IDAT" && typ != "IEND":
			return nil, errDamagedImage // no decoder could show it
		case critical, pngKept[typ]:
			out = append(out, in[i:end]...)
		}
		if typ == "IEND" {
			return out, nil
		}
		i = end
	}
}

// webpKept are the WebP chunks of the image itself; EXIF, XMP and unknown
// chunks are dropped.
var webpKept = map[string]bool{
	"VP8 ": true, "VP8L": true, "VP8X": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true,
}

// stripWebP returns the WebP without EXIF, XMP and unknown chunks, with the
// VP8X flags and the RIFF size set to match, and nothing after the RIFF
// container.
func stripWebP(in []byte) ([]byte, error) {
	if len(in) < 12 || string(in[:4]) != "RIFF" || string(in[8:12]) != "WEBP" {
		return nil, errDamagedImage
	}
	size := uint64(binary.LittleEndian.Uint32(in[4:]))
	if size < 4 || 8+size > uint64(len(in)) {
		return nil, errDamagedImage
	}
	riffEnd := 8 + int(size)
	out := append(make([]byte, 0, len(in)), in[:12]...)
	for i := 12; i < riffEnd; {
		if i+8 > riffEnd {
			return nil, errDamagedImage
		}
		typ := string(in[i : i+4])
		n := uint64(binary.LittleEndian.Uint32(in[i+4:]))
		if uint64(i)+8+n > uint64(riffEnd) {
			return nil, errDamagedImage
		}
		end := i + 8 + int(n)
		if webpKept[typ] {
			start := len(out)
			out = append(out, in[i:end]...)
			if n%2 == 1 {
				out = append(out, 0) // chunks are padded to an even size
			}
			if typ == "VP8X" && n >= 1 {
				out[start+8] &^= 0x08 | 0x04 // the EXIF and XMP flags
			}
		}
		i = end + int(n%2)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
