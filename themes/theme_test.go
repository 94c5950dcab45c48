package themes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

func TestBuiltinsParseAndDefineEveryToken(t *testing.T) {
	for _, name := range Builtins {
		th, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if th.Name != name {
			t.Errorf("%s: name %q", name, th.Name)
		}
		for _, tok := range Tokens {
			if _, ok := th.colors[tok]; !ok {
				t.Errorf("%s lacks %s", name, tok)
			}
		}
		if len(th.Prefixes()) != 6 {
			t.Errorf("%s: %d prefix colours", name, len(th.Prefixes()))
		}
	}
	mono, _ := Builtin("mono")
	if !mono.Mono || mono.Color("error") != (lipgloss.NoColor{}) {
		t.Errorf("mono theme has colour: %+v", mono)
	}
}

func TestUserFileOverridesAndFallsBack(t *testing.T) {
	src := "name: mine\ncolors:\n  ok: \"#0f0\"\n  error: {light: red, dark: \"#ff0000\"}\n  text: 202\n  info: none\n"
	th, err := Parse("mine.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := Builtin(Default)
	checks := map[string]lipgloss.TerminalColor{
		"ok":     lipgloss.Color("#00ff00"),
		"error":  lipgloss.AdaptiveColor{Light: "1", Dark: "#ff0000"},
		"text":   lipgloss.Color("202"),
		"info":   lipgloss.NoColor{},
		"accent": def.Color("accent"), // missing → the default's
	}
	for tok, want := range checks {
		if got := th.Color(tok); got != want {
			t.Errorf("%s = %#v, want %#v", tok, got, want)
		}
	}
}

func TestBadFilesNamePosition(t *testing.T) {
	cases := map[string]string{
		"colors:\n  txet: red\n":                       "bad.yaml:2:3: unknown token \"txet\"",
		"colors:\n  ok: \"#12345\"\n":                  "bad.yaml:2:7: bad colour \"#12345\" for ok",
		"colors:\n  ok: 256\n":                         "bad.yaml:2:7: bad colour \"256\" for ok",
		"colors:\n  ok: {light: red, dark: blurple}\n": "bad.yaml:2:26: bad colour \"blurple\" for ok",
		"colors:\n  ok: {lite: red}\n":                 "bad.yaml:2:8: unknown key \"lite\" in ok",
		"name: x\ncolours:\n  ok: red\n":               "bad.yaml:2:1: unknown key \"colours\"",
		"- a\n":                                        "bad.yaml:1:1: a theme is a mapping",
		"colors: [\n":                                  "bad.yaml: yaml:",
	}
	for src, want := range cases {
		_, err := Parse("bad.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want prefix %q", src, err, want)
		}
	}
}

func TestLoadByNameFileOrConfigDir(t *testing.T) {
	if th, err := Load("light"); err != nil || th.Name != "light" {
		t.Fatalf("built-in: %v %v", th.Name, err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "sunset.yaml")
	if err := os.WriteFile(file, []byte("colors:\n  accent: \"#ff8800\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	th, err := Load(file)
	if err != nil || th.Name != "sunset" || th.Color("accent") != lipgloss.Color("#ff8800") {
		t.Fatalf("file: %+v %v", th, err)
	}
	t.Setenv("XDG_CONFIG_HOME", dir)
	if err := os.MkdirAll(filepath.Join(dir, "appdeck", "themes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file, filepath.Join(dir, "appdeck", "themes", "sunset.yaml")); err != nil {
		t.Fatal(err)
	}
	if th, err := Load("sunset"); err != nil || th.Name != "sunset" {
		t.Fatalf("config dir: %+v %v", th, err)
	}
	if _, err := Load("nosuch"); err == nil || !strings.Contains(err.Error(), "no such built-in theme") {
		t.Errorf("unknown theme: %v", err)
	}
}
