package c3d

import (
	"strings"
	"unicode/utf8"
)

// latin1 converts Latin-1 bytes to a UTF-8 string without trailing spaces
// and NULs. Every byte is a code point of the same value, so 0xB0 is "°"
// and 0xB5 is "µ".
func latin1(b []byte) string {
	end := len(b)
	for end > 0 && (b[end-1] == ' ' || b[end-1] == 0) {
		end--
	}
	b = b[:end]
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(2 * len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}
