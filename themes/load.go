package themes

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var builtinFiles embed.FS

// Default is the theme used when none is chosen (on a dark background).
const Default = "dark"

// Builtins names the built-in themes in the order `T` cycles through them.
var Builtins = []string{"dark", "light", "high-contrast", "mono"}

// Builtin returns a built-in theme by name.
func Builtin(name string) (Theme, error) {
	if !slices.Contains(Builtins, name) {
		return Theme{}, fmt.Errorf("unknown theme %q: the built-in themes are %s, or give a YAML file", name, strings.Join(Builtins, ", "))
	}
	data, err := builtinFiles.ReadFile(name + ".yaml")
	if err != nil {
		return Theme{}, err
	}
	return Parse(name+".yaml", data)
}

// Load returns the theme arg names: a built-in theme, a YAML file, or a
// file NAME.yaml in the user's appdeck themes directory
// ($XDG_CONFIG_HOME/appdeck/themes).
func Load(arg string) (Theme, error) {
	if slices.Contains(Builtins, arg) {
		return Builtin(arg)
	}
	path := arg
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(arg, `/\.`) {
		if dir, err := os.UserConfigDir(); err == nil {
			path = filepath.Join(dir, "appdeck", "themes", arg+".yaml")
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Theme{}, fmt.Errorf("theme %q: no such built-in theme (%s) and no file %s", arg, strings.Join(Builtins, ", "), path)
		}
		return Theme{}, fmt.Errorf("theme: %w", err)
	}
	t, err := Parse(path, data)
	if err == nil && t.Name == "" {
		t.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return t, err
}

// Parse reads a theme file:
//
//	name: my-theme
//	colors:
//	  text: "#c0caf5"                          # one colour for any background
//	  ok: {light: "#2e7d32", dark: "#9ece6a"}  # or one per background
//
// A colour is #rgb, #rrggbb, an ANSI number 0–255, a name (red,
// bright-blue, …) or none. An unknown key or a bad colour is an error
// naming file:line:col; tokens the file leaves out take the default
// theme's colour.
func Parse(file string, data []byte) (Theme, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Theme{}, fmt.Errorf("%s: %w", file, err)
	}
	t := Theme{colors: map[string]lipgloss.TerminalColor{}}
	if len(doc.Content) == 0 {
		return t, fmt.Errorf("%s: empty theme file", file)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return t, posErr(file, root, "a theme is a mapping with name and colors")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "name":
			t.Name = v.Value
		case "mono":
			err = v.Decode(&t.Mono)
		case "colors":
			err = parseColors(file, v, t.colors)
		default:
			err = posErr(file, k, fmt.Sprintf("unknown key %q: a theme has name, mono and colors", k.Value))
		}
		if err != nil {
			return t, err
		}
	}
	if t.Mono {
		for _, tok := range Tokens {
			t.colors[tok] = lipgloss.NoColor{}
		}
		return t, nil
	}
	return t, fillDefaults(t.colors, file)
}

// fillDefaults gives tokens the file left out the default theme's colour.
func fillDefaults(colors map[string]lipgloss.TerminalColor, file string) error {
	if file == Default+".yaml" {
		if len(colors) != len(Tokens) {
			return fmt.Errorf("%s: the default theme must define every token", file)
		}
		return nil
	}
	def, err := Builtin(Default)
	if err != nil {
		return err
	}
	for _, tok := range Tokens {
		if _, ok := colors[tok]; !ok {
			colors[tok] = def.colors[tok]
		}
	}
	return nil
}

func parseColors(file string, n *yaml.Node, out map[string]lipgloss.TerminalColor) error {
	if n.Kind != yaml.MappingNode {
		return posErr(file, n, "colors is a mapping of token: colour")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(Tokens, k.Value) {
			return posErr(file, k, fmt.Sprintf("unknown token %q; tokens are %s", k.Value, strings.Join(Tokens, ", ")))
		}
		c, err := parseValue(file, k.Value, v)
		if err != nil {
			return err
		}
		out[k.Value] = c
	}
	return nil
}

// parseValue reads a colour or a {light, dark} pair.
func parseValue(file, token string, v *yaml.Node) (lipgloss.TerminalColor, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		c, ok := parseColor(v.Value)
		if !ok {
			return nil, badColor(file, token, v)
		}
		if c == "" {
			return lipgloss.NoColor{}, nil
		}
		return lipgloss.Color(c), nil
	case yaml.MappingNode:
		var pair lipgloss.AdaptiveColor
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, cv := v.Content[i], v.Content[i+1]
			c, ok := parseColor(cv.Value)
			if cv.Kind != yaml.ScalarNode || !ok {
				return nil, badColor(file, token, cv)
			}
			switch k.Value {
			case "light":
				pair.Light = c
			case "dark":
				pair.Dark = c
			default:
				return nil, posErr(file, k, fmt.Sprintf("unknown key %q in %s: a pair has light and dark", k.Value, token))
			}
		}
		return pair, nil
	}
	return nil, badColor(file, token, v)
}

var hexColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

var colorNames = map[string]int{
	"black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
	"bright-black": 8, "gray": 8, "grey": 8, "bright-red": 9, "bright-green": 10, "bright-yellow": 11,
	"bright-blue": 12, "bright-magenta": 13, "bright-cyan": 14, "bright-white": 15,
}

// parseColor returns the lipgloss form of a colour ("" for none).
func parseColor(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "none":
		return "", true
	case hexColor.MatchString(s):
		if len(s) == 4 { // #rgb → #rrggbb
			s = string([]byte{'#', s[1], s[1], s[2], s[2], s[3], s[3]})
		}
		return strings.ToLower(s), true
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 255 {
		return strconv.Itoa(n), true
	}
	if n, ok := colorNames[strings.ToLower(s)]; ok {
		return strconv.Itoa(n), true
	}
	return "", false
}

func badColor(file, token string, v *yaml.Node) error {
	return posErr(file, v, fmt.Sprintf("bad colour %q for %s: use #rgb, #rrggbb, an ANSI number 0-255, a name such as red or bright-blue, none, or {light: …, dark: …}", v.Value, token))
}

func posErr(file string, n *yaml.Node, msg string) error {
	return fmt.Errorf("%s:%d:%d: %s", file, n.Line, n.Column, msg)
}
