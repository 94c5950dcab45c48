package supervisor

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\n", "plain"},
		{"crlf\r\n", "crlf"},
		{"progress 10%\rprogress 100%", "progress 100%"},
		{"\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m"},         // colour kept
		{"\x1b[2Jclear\x1b[Hhome", "clearhome"},              // other CSI dropped
		{"\x1b]0;title\x07text", "text"},                     // OSC dropped
		{"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"}, // hyperlinks dropped
		{"bell\x07 nul\x00 del\x7f", "bell nul del"},         // C0 controls dropped
		{"tab\tkept", "tab\tkept"},                           // tabs stay
		{"c1 \u0085\u009b here", "c1  here"},                 // C1 controls dropped
		{"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8"},       // invalid UTF-8 replaced
		{"héllo wörld ✓", "héllo wörld ✓"},                   // valid UTF-8 kept
		{"\x1b[31;1m\x1b[?25l", "\x1b[31;1m"},                // private modes dropped
		{"unterminated \x1b[31", "unterminated "},
	}
	for _, tt := range tests {
		if got := Sanitize([]byte(tt.in)); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	ascii := Sanitize([]byte(strings.Repeat("x", 3*MaxLineBytes)))
	if ascii != strings.Repeat("x", MaxLineBytes)+truncatedMarker {
		t.Errorf("long ASCII line: %d bytes, want the cap and the marker", len(ascii))
	}
	long := strings.Repeat("é", MaxLineBytes) // two bytes each
	got := Sanitize([]byte(long))
	if len(got) > MaxLineBytes+len(truncatedMarker) || !strings.HasSuffix(got, truncatedMarker) || !utf8.ValidString(got) {
		t.Errorf("long line: %d bytes, suffix %q", len(got), got[len(got)-20:])
	}
}

// FuzzSanitize checks the promises Sanitize makes for any input: valid
// UTF-8, no line breaks, no control characters except tab and the ESC of
// a kept colour sequence, bounded length, and nothing more to clean.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "\x1b[31mx\x1b[0m", "\x1b]0;t\x07", "\xff", "\x1b[", "é\u0085", "\x1b[" + strings.Repeat("1;", 40) + "m"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := Sanitize(raw)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if len(got) > MaxLineBytes+len(truncatedMarker) {
			t.Fatalf("%d bytes, over the cap", len(got))
		}
		for i, r := range got {
			switch {
			case r == '\t':
			case r == 0x1b:
				n, keep := escapeLen([]byte(got[i:]))
				if !keep || n < 3 {
					t.Fatalf("escape sequence kept that is not a colour: %q", got[i:min(len(got), i+n+1)])
				}
			case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
				t.Fatalf("control character %U in %q", r, got)
			}
		}
		if !strings.HasSuffix(got, truncatedMarker) {
			if again := Sanitize([]byte(got)); again != got {
				t.Fatalf("not idempotent: %q → %q", got, again)
			}
		}
	})
}
