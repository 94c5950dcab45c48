package config

import (
	"fmt"
	"strings"
	"testing"
)

// bigBroken returns a file of n lines "kI: [a]" and then ends with tail.
func bigBroken(n int, tail string) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: [a]\n", i)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// bigPlain returns a file of n lines "kI: value" without brackets and
// then tail.
func bigPlain(n int, tail string) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: value\n", i)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// BenchmarkYAMLSyntaxErrors times placing a syntax error at the end of
// big files, the worst case for the prefix search and the bracket scan,
// against the baseline of a valid file (which yaml.v3 parses once) of the
// same size.
func BenchmarkYAMLSyntaxErrors(b *testing.B) {
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"baseline-valid-50k-lines", bigPlain(50000, "x: a\n")},
		{"plain-stray-indent-5k-lines", bigPlain(5000, "x: a\n  y: b\n")},
		{"brackets-unclosed-20k-lines", bigBroken(20000, "x: [a\n")},
		{"brackets-unclosed-40k-lines", bigBroken(40000, "x: [a\n")},
		{"brackets-unclosed-80k-lines", bigBroken(80000, "x: [a\n")},
		{"plain-stray-indent-10k-lines", bigPlain(10000, "x: a\n  y: b\n")},
		{"plain-stray-indent-50k-lines", bigPlain(50000, "x: a\n  y: b\n")},
		{"plain-unclosed-quote-50k-lines", bigPlain(50000, "x: \"a\n")},
	} {
		b.Run(fmt.Sprintf("%s-%dKB", bc.name, len(bc.data)/1000), func(b *testing.B) {
			for b.Loop() {
				ParseService("app.yaml", bc.data, testOptions)
			}
		})
	}
}
