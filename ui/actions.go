package ui

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui/buildpanel"
	"github.com/appdeck/appdeck/ui/common"
)

// actionKey runs an action on the selection. Actions call the
// supervisor, which may block, so each runs as a command whose result
// flashes in the status bar.
func (m *Model) actionKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.ctx.Keys
	if !key.Matches(msg, k.Restart, k.RollingRestart, k.StartStop, k.Stop, k.Kill, k.ScaleUp, k.ScaleDown, k.ScaleAuto, k.Rebuild, k.Open) {
		return nil, false
	}
	svc, in, ok := m.selection()
	if !ok {
		return common.Flash("nothing selected", true), true
	}
	name := svc.Name
	switch {
	case key.Matches(msg, k.RollingRestart):
		return m.run("restarting "+name+" one instance at a time…", "restarted "+name,
			func() error { return m.sup.RestartService(name) }), true
	case key.Matches(msg, k.ScaleUp, k.ScaleDown):
		n := len(svc.Instances) + 1
		if key.Matches(msg, k.ScaleDown) {
			n -= 2
		}
		if n < 0 {
			return common.Flash(name+" has no instance to remove", true), true
		}
		return m.run(fmt.Sprintf("scaling %s to %d…", name, n), name+" scaled to "+common.Plural(n, "instance"),
			func() error { return m.sup.Scale(name, n) }), true
	case key.Matches(msg, k.ScaleAuto):
		return m.run("handing "+name+" back to app.yaml's scaling…", name+" scales as app.yaml says",
			func() error { return m.sup.Scale(name, supervisor.ScaleAuto) }), true
	case key.Matches(msg, k.Rebuild):
		return m.run("rebuilding "+name+"…", "rebuilt "+name, func() error { return m.sup.Rebuild(name) }), true
	case key.Matches(msg, k.Open):
		return m.open(svc), true
	}
	if in == nil {
		return common.Flash("select an instance for that key (R, +, -, a, b and o act on the service)", true), true
	}
	return m.instanceAction(msg, svc.Name, *in), true
}

func (m *Model) instanceAction(msg tea.KeyMsg, service string, in supervisor.InstanceInfo) tea.Cmd {
	k := m.ctx.Keys
	id, name := in.ID, service+"/"+in.ID
	// The supervisor words a conflict itself ("api/0 is already stopped").
	do := func(act func(service, id string) error) func() error {
		return func() error { return act(service, id) }
	}
	switch {
	case key.Matches(msg, k.Restart):
		return m.run("restarting "+name+"…", "restarted "+name, do(m.sup.Restart))
	case key.Matches(msg, k.StartStop) && !common.Running(in.State):
		return m.run("starting "+name+"…", "started "+name, do(m.sup.StartInstance))
	case key.Matches(msg, k.Stop, k.Kill) && in.State == supervisor.Stopped:
		return common.Flash(name+" is already stopped", true)
	case key.Matches(msg, k.StartStop, k.Stop):
		return m.run("stopping "+name+" (SIGTERM, then SIGKILL after the grace period)…", "stopped "+name,
			do(m.sup.StopInstance))
	case key.Matches(msg, k.Kill):
		target := name
		if in.PID > 0 {
			target += fmt.Sprintf(" (pid %d)", in.PID)
		}
		kill := confirmedMsg{"killing " + name + "…", "killed " + name, do(m.sup.Kill)}
		m.confirm.Ask("Kill "+target+" with SIGKILL? It stays stopped.",
			func() tea.Msg { return kill }, common.Flash("kill of "+name+" cancelled", false))
	}
	return nil
}

// confirmedMsg is an action the user confirmed in a dialog. It comes back
// to Update, which flashes that it starts and runs it: flashing when the
// dialog opened would leave "killing…" up after a no.
type confirmedMsg struct {
	starting, done string
	do             func() error
}

// run flashes what is starting and returns the command doing it.
func (m *Model) run(starting, done string, do func() error) tea.Cmd {
	m.status.Flash(starting, false)
	return func() tea.Msg {
		if err := do(); err != nil {
			return actionDoneMsg{err: err}
		}
		return actionDoneMsg{ok: done}
	}
}

// open opens the service's front port in the browser, or shows the URL
// when there is no opener.
func (m *Model) open(svc *supervisor.ServiceInfo) tea.Cmd {
	if svc.Port == 0 {
		return common.Flash(svc.Name+" has no port", true)
	}
	url := "http://" + net.JoinHostPort(m.opts.Header.Host, strconv.Itoa(svc.Port)) + "/"
	open := m.opts.Open
	m.status.Flash("opening "+url+"…", false)
	return func() tea.Msg {
		if err := open(url); err != nil {
			return common.FlashMsg{Text: "open " + url + " in your browser (" + err.Error() + ")"}
		}
		return common.FlashMsg{Text: "opened " + url}
	}
}

var errNoOpener = errors.New("no opener found")

// openURL runs the platform's opener and waits for it; without one (or
// without a display on Linux) it reports errNoOpener.
func openURL(url string) error {
	var names []string
	switch runtime.GOOS {
	case "darwin":
		names = []string{"open"}
	case "windows":
		names = []string{"rundll32"}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errNoOpener
		}
		names = []string{"xdg-open", "wslview"}
	}
	for _, n := range names {
		path, err := exec.LookPath(n)
		if err != nil {
			continue
		}
		args := []string{url}
		if n == "rundll32" {
			args = []string{"url.dll,FileProtocolHandler", url}
		}
		return exec.Command(path, args...).Run()
	}
	return errNoOpener
}

// openEditor opens the first error of the failed build in $EDITOR,
// handing it the terminal until it exits.
func (m *Model) openEditor() tea.Cmd {
	svc, ok := m.failedBuild()
	if !ok {
		return common.Flash("no failed build to open (e opens the first error of a failed build)", true)
	}
	loc, ok := buildpanel.First(svc.BuildOutput + "\n" + svc.BuildErr)
	if !ok {
		return common.Flash("the build output of "+svc.Name+" names no file:line", true)
	}
	cmd, err := buildpanel.EditorCommand(m.opts.Dirs[svc.Name], loc)
	if err != nil {
		return common.Flash(err.Error(), true)
	}
	return tea.ExecProcess(cmd, func(err error) tea.Msg {
		if err != nil {
			return common.FlashMsg{Text: "editor: " + err.Error(), Err: true}
		}
		return common.FlashMsg{Text: "back from the editor; b rebuilds now"}
	})
}
