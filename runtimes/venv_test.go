package runtimes_test

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appdeck/appdeck/runtimes"
)

// writeWheel packs testdata/pypkg/hello_appdeck into a wheel in dir: a
// local path requirement that pip installs with no network.
func writeWheel(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "hello_appdeck-1.0-py3-none-any.whl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	var record strings.Builder
	add := func(name string, data []byte) {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		sum := sha256.Sum256(data)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", name, base64.RawURLEncoding.EncodeToString(sum[:]), len(data))
	}
	src, err := os.ReadFile(filepath.Join("testdata", "pypkg", "hello_appdeck", "__init__.py"))
	if err != nil {
		t.Fatal(err)
	}
	add("hello_appdeck/__init__.py", src)
	add("hello_appdeck-1.0.dist-info/METADATA", []byte("Metadata-Version: 2.1\nName: hello-appdeck\nVersion: 1.0\n"))
	add("hello_appdeck-1.0.dist-info/WHEEL", []byte("Wheel-Version: 1.0\nGenerator: appdeck-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
	record.WriteString("hello_appdeck-1.0.dist-info/RECORD,,\n")
	w, err := z.Create("hello_appdeck-1.0.dist-info/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(record.String()))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

func requireVenv(t *testing.T) {
	requireTools(t, "python3")
	if exec.Command("python3", "-c", "import venv, ensurepip").Run() != nil {
		t.Skip("python3 cannot make virtualenvs (Debian: apt-get install python3-venv)")
	}
}

func TestPythonVenvInstallsRequirementsOnlyWhenTheyChange(t *testing.T) {
	requireVenv(t)
	dir := copyApp(t, filepath.Join("testdata", "venv"))
	writeWheel(t, dir)
	app := runApp(t, dir, runtimes.Options{PythonVenv: true})
	var got struct{ Greeting, Python, Virtual_Env string }
	if err := json.Unmarshal([]byte(app.getOK("/")), &got); err != nil {
		t.Fatal(err)
	}
	venv := filepath.Join(dir, ".appdeck-cache", "default", "venv")
	if got.Greeting != "hello from a package installed by pip" || got.Virtual_Env != venv || !strings.HasPrefix(got.Python, venv) {
		t.Errorf("the app did not run in the virtualenv %s: %+v", venv, got)
	}
	installs := func() int {
		return strings.Count(app.log(""), "pip install --disable-pip-version-check -r requirements.txt")
	}
	if installs() != 1 || !strings.Contains(app.log(""), "built in") {
		t.Fatalf("want one pip install:\n%s", app.log(""))
	}

	// Started again on the same files: the virtualenv is reused.
	again := runApp(t, dir, runtimes.Options{PythonVenv: true})
	again.getOK("/")
	if strings.Contains(again.log(""), "pip install") || !strings.Contains(again.log(""), "requirements.txt unchanged; reusing the virtualenv") ||
		strings.Contains(again.log(""), "built in") {
		t.Errorf("an unchanged requirements.txt was installed again:\n%s", again.log(""))
	}
	// A rebuild by hand is forced: it installs again.
	if err := app.sup.Rebuild(app.service); err != nil {
		t.Fatal(err)
	}
	if installs() != 2 || !strings.Contains(app.log(""), "requirements.txt unchanged; installing it again, as asked") {
		t.Errorf("a rebuild by hand did not install again:\n%s", app.log(""))
	}

	reqs := filepath.Join(dir, "requirements.txt")
	data, _ := os.ReadFile(reqs)
	if err := os.WriteFile(reqs, append([]byte("# pinned\n"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := app.sup.Rebuild(app.service); err != nil {
		t.Fatal(err)
	}
	if installs() != 3 {
		t.Errorf("a changed requirements.txt was not installed:\n%s", app.log(""))
	}
	app.getOK("/")
}

func TestPythonVenvPipFailureIsShown(t *testing.T) {
	requireVenv(t)
	dir := copyApp(t, filepath.Join("testdata", "venv")) // no wheel written
	runApp(t, dir, runtimes.Options{PythonVenv: true}).checkErrorPage(
		"The Python application&#39;s requirements could not be installed.",
		"pip install --disable-pip-version-check -r requirements.txt",
		"hello_appdeck-1.0-py3-none-any.whl")
}
