package supervisor

import (
	"strings"
	"unicode/utf8"
)

// MaxLineBytes caps a log line; longer lines are cut with a marker
// (truncatedMarker), which comes on top.
const MaxLineBytes = 16 << 10

const truncatedMarker = " …[truncated]"

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
	// put writes p unless that would pass the cap.
	put := func(p []byte) bool {
		if b.Len()+len(p) > MaxLineBytes {
			b.WriteString(truncatedMarker)
			return false
		}
		b.Write(p)
		return true
	}
	for i := 0; i < len(raw); {
		c := raw[i]
		n := 1
		keep := false
		switch {
		case c >= 0x20 && c < 0x7f: // the common case: a run of printable ASCII at once
			for i+n < len(raw) && raw[i+n] >= 0x20 && raw[i+n] < 0x7f {
				n++
			}
			if room := MaxLineBytes - b.Len(); n > room { // cut the run at the cap
				b.Write(raw[i : i+room])
				b.WriteString(truncatedMarker)
				return b.String()
			}
			keep = true
		case c == 0x1b:
			n, keep = escapeLen(raw[i:])
		case c == '\t':
			keep = true
		case c < utf8.RuneSelf: // other C0 controls and DEL are dropped
		default:
			var r rune
			r, n = utf8.DecodeRune(raw[i:])
			switch {
			case r == utf8.RuneError && n <= 1:
				if !put(replacementChar) {
					return b.String()
				}
			case r < 0xa0: // C1 control characters are dropped like C0 ones
			default:
				keep = true
			}
		}
		if keep && !put(raw[i:i+n]) {
			break
		}
		i += n
	}
	return b.String()
}

var replacementChar = []byte(string(utf8.RuneError))

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
