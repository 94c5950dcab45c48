package supervisor

import (
	"strings"
	"unicode/utf8"
)

// MaxLineBytes caps a log line; longer lines are cut with a marker.
const MaxLineBytes = 16 << 10

// Sanitize turns raw output into a line safe to draw in a terminal: a
// carriage return keeps only the text after it (what a terminal would
// show after a progress bar redraw), colour (SGR) sequences are kept,
// every other escape sequence and control character is dropped, invalid
// UTF-8 becomes U+FFFD, and the result is capped at MaxLineBytes.
func Sanitize(raw []byte) string {
	raw = trimEOL(raw)
	if i := lastCR(raw); i >= 0 {
		raw = raw[i+1:]
	}
	var b strings.Builder
	b.Grow(min(len(raw), MaxLineBytes))
	for i := 0; i < len(raw); {
		if b.Len() >= MaxLineBytes {
			b.WriteString(" …[truncated]")
			break
		}
		c := raw[i]
		switch {
		case c == 0x1b:
			n, keep := escapeLen(raw[i:])
			if keep {
				b.Write(raw[i : i+n])
			}
			i += n
		case c == '\t':
			b.WriteByte(c)
			i++
		case c < 0x20 || c == 0x7f:
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			switch {
			case r == utf8.RuneError && size <= 1:
				b.WriteRune(utf8.RuneError)
			case r < 0xa0: // C1 control characters are dropped like C0 ones
			default:
				b.Write(raw[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

func trimEOL(raw []byte) []byte {
	for len(raw) > 0 && (raw[len(raw)-1] == '\n' || raw[len(raw)-1] == '\r') {
		raw = raw[:len(raw)-1]
	}
	return raw
}

func lastCR(raw []byte) int {
	for i := len(raw) - 1; i >= 0; i-- {
		if raw[i] == '\r' {
			return i
		}
	}
	return -1
}

// escapeLen returns the length of the escape sequence at the start of s
// and whether it is a colour (SGR) sequence worth keeping.
func escapeLen(s []byte) (int, bool) {
	if len(s) < 2 {
		return len(s), false
	}
	switch s[1] {
	case '[': // CSI: parameters and intermediates, then a final byte 0x40–0x7e
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1, s[i] == 'm' && sgrParams(s[2:i])
			}
			if s[i] < 0x20 || s[i] > 0x3f {
				return i, false
			}
		}
		return len(s), false
	case ']', 'P', '_', '^', 'X': // strings ended by BEL or ESC \
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1, false
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2, false
			}
		}
		return len(s), false
	}
	return 2, false
}

func sgrParams(p []byte) bool {
	for _, c := range p {
		if (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}
