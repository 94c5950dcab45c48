package buildpanel

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFirstFindsCompilerPositions(t *testing.T) {
	cases := map[string]Location{
		"# example.com/x\n./main.go:12:5: undefined: greet\n./b.go:1:1: x": {"./main.go", 12, 5},
		"src/app.ts(3,4): error":                                {},
		"  File \"app.py\", line 3\nerror at handlers/api.py:7": {"handlers/api.py", 7, 0},
		"C:/src/main.go:9:2: bad":                               {"C:/src/main.go", 9, 2},
	}
	for out, want := range cases {
		got, ok := First(out)
		if ok != (want.File != "") || got != want {
			t.Errorf("First(%q) = %+v %v, want %+v", out, got, ok, want)
		}
	}
}

func TestEditorCommandPerEditor(t *testing.T) {
	loc := Location{File: "./main.go", Line: 12, Col: 5}
	file := filepath.Join("/app", "main.go")
	cases := map[string]string{
		"nano":        "nano +12 " + file,
		"vim":         "vim +call cursor(12,5) " + file,
		"code --wait": "code --wait --goto " + file + ":12:5",
		"/usr/bin/hx": "/usr/bin/hx " + file + ":12:5",
		"emacsclient": "emacsclient +12 " + file,
	}
	for editor, want := range cases {
		t.Setenv("VISUAL", "")
		t.Setenv("EDITOR", editor)
		cmd, err := EditorCommand("/app", loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cmd.Args, " "); got != want {
			t.Errorf("%s: %q, want %q", editor, got, want)
		}
	}
	t.Setenv("EDITOR", "")
	if _, err := EditorCommand("/app", loc); err == nil || !strings.Contains(err.Error(), "set $EDITOR") {
		t.Errorf("no editor: %v", err)
	}
}
