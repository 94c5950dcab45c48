package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/themes"
	"github.com/appdeck/appdeck/ui/common"
	"github.com/appdeck/appdeck/ui/confirm"
	"github.com/appdeck/appdeck/ui/instancetable"
	"github.com/appdeck/appdeck/ui/logpane"
	"github.com/appdeck/appdeck/ui/requests"
	"github.com/appdeck/appdeck/ui/statusbar"
)

// frameInterval is how often the dashboard pulls state and the visible
// log lines. Log output never reaches Bubble Tea as messages: a message
// per line would render per line and saturate a core (tui-notes §0).
const frameInterval = 50 * time.Millisecond

// Minimum terminal size the layout is designed for.
const minWidth, minHeight = 80, 24

// Options configure the dashboard. Zero values take the defaults noted.
type Options struct {
	Header   Header
	Renderer *lipgloss.Renderer // default: lipgloss's, on stdout
	Theme    themes.Theme       // default: the built-in dark theme
	// Themes are what T cycles through (default: the built-ins, and
	// Theme when it is not one of them).
	Themes []themes.Theme
	// NoColor is set when colours are off (NO_COLOR, --no-color): T then
	// has nothing to cycle.
	NoColor bool
	// Dirs maps each service to its directory, where the paths in its
	// build output are relative to.
	Dirs map[string]string
	// SaveDir is where ctrl+s writes logs (default: the temp directory).
	SaveDir string
	// Open opens a URL in the browser (default: xdg-open or open; with
	// neither, the URL is shown instead).
	Open func(url string) error
	// Now and Loc are the clock and time zone (default: the real ones);
	// tests pin them.
	Now func() time.Time
	Loc *time.Location
}

type focus int

const (
	focusTable focus = iota
	focusLogs
	focusRequests
	numFocus
)

// scope is what the log and request panes show.
type scope int

const (
	scopeInstance scope = iota // the selected instance (or the service's own log on a service row)
	scopeService               // the selected service and all its instances, merged
	scopeAll                   // every service, merged
)

var scopeNames = [...]string{"instance", "service", "all services"}

type (
	frameMsg time.Time
	eventMsg supervisor.Event
	// actionDoneMsg is an action's result.
	actionDoneMsg struct {
		ok  string
		err error
	}
)

// Model is the dashboard's root model. It owns focus, layout and the
// supervisor; the components only draw what it hands them.
type Model struct {
	sup    Supervisor
	opts   Options
	ctx    *common.Context
	events <-chan supervisor.Event
	unsub  func()

	table   instancetable.Model
	logs    logpane.Model
	reqs    requests.Model
	status  statusbar.Model
	confirm confirm.Model

	width, height int
	services      []supervisor.ServiceInfo
	focus         focus
	scope         scope
	zoom          bool
	help          bool
	helpOffset    int // lines the help overlay is scrolled
	theme         int // index into opts.Themes
}

// New returns the dashboard over sup.
func New(sup Supervisor, opts Options) Model {
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.DefaultRenderer()
	}
	if opts.Theme.Name == "" {
		opts.Theme, _ = themes.Builtin(themes.Default)
	}
	if len(opts.Themes) == 0 {
		opts.Themes = builtinThemes(opts.Theme)
	}
	if opts.Open == nil {
		opts.Open = openURL
	}
	ctx := common.NewContext(opts.Renderer, opts.Theme, opts.Now, opts.Loc)
	m := Model{
		sup: sup, opts: opts, ctx: ctx,
		table:   instancetable.New(ctx),
		logs:    logpane.New(ctx),
		reqs:    requests.New(ctx, sup.Requests()),
		status:  statusbar.New(ctx),
		confirm: confirm.New(ctx),
	}
	for i, t := range opts.Themes {
		if t.Name == opts.Theme.Name {
			m.theme = i
		}
	}
	m.logs.SetSaveDir(opts.SaveDir)
	m.events, m.unsub = sup.Subscribe()
	m.refresh()
	return m
}

// builtinThemes is the default T cycle: the built-ins, with the chosen
// theme in place of its namesake or first when it is the user's own.
func builtinThemes(chosen themes.Theme) []themes.Theme {
	out := []themes.Theme{}
	found := false
	for _, name := range themes.Builtins {
		t, err := themes.Builtin(name)
		if err != nil {
			continue
		}
		if name == chosen.Name {
			t, found = chosen, true
		}
		out = append(out, t)
	}
	if !found {
		out = append([]themes.Theme{chosen}, out...)
	}
	return out
}

// Close ends the dashboard's event subscription.
func (m Model) Close() {
	if m.unsub != nil {
		m.unsub()
	}
}

// Init starts the frame tick and the event listener.
func (m Model) Init() tea.Cmd { return tea.Batch(tick(), waitEvent(m.events)) }

func tick() tea.Cmd {
	return tea.Tick(frameInterval, func(t time.Time) tea.Msg { return frameMsg(t) })
}

// waitEvent delivers the supervisor's next event; Update re-arms it.
// Events are few (state changes, builds), unlike log lines.
func waitEvent(ch <-chan supervisor.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return nil
		}
		return eventMsg(e)
	}
}

// Update handles a message. It never blocks: actions run as commands.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.refresh()
	case frameMsg:
		m.refresh()
		return m, tick()
	case eventMsg:
		m.refresh()
		m.noteEvent(supervisor.Event(msg))
		return m, waitEvent(m.events)
	case actionDoneMsg:
		if msg.err != nil {
			m.status.Flash(msg.err.Error(), true)
		} else {
			m.status.Flash(msg.ok, false)
		}
		m.refresh()
	case confirmedMsg:
		return m, m.run(msg.starting, msg.done, msg.do)
	case common.FlashMsg:
		m.status.Flash(msg.Text, msg.Err)
	case tea.KeyMsg:
		return m.presses(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	}
	return m, nil
}

// noteEvent flashes what deserves attention when it happens.
func (m *Model) noteEvent(e supervisor.Event) {
	switch {
	case e.Kind == supervisor.BuildFailedEvent:
		m.status.Flash("build of "+e.Service+" failed: the build panel shows why", true)
	case e.Kind == supervisor.StateChanged && e.State == supervisor.Crashed:
		m.status.Flash(e.Service+"/"+e.Instance+" crashed: "+e.Reason, true)
	case e.Kind == supervisor.ConfigProblem:
		m.status.Flash(e.Reason, true)
	}
}

// refresh pulls the snapshot, points the panes at the selection and
// lets them read the lines and requests they draw.
func (m *Model) refresh() {
	m.services = m.sup.Snapshot()
	m.table.SetServices(m.services)
	m.layout()
	m.pointPanes()
	m.logs.Refresh()
	m.reqs.Refresh()
}

// pointPanes sets what the log and request panes show from the
// selection and the scope.
func (m *Model) pointPanes() {
	row, ok := m.table.Selected()
	if !ok {
		m.logs.SetSources("none", "logs", nil)
		m.reqs.SetScope("-", "-", "requests")
		return
	}
	svc := row.Service.Name
	switch {
	case m.scope == scopeAll:
		var srcs []logpane.Source
		for _, s := range m.services {
			srcs = append(srcs, m.serviceSources(s)...)
		}
		m.logs.SetSources("all", "logs · all services", srcs)
		m.reqs.SetScope("", "", "requests · all services")
	case m.scope == scopeService:
		m.logs.SetSources("service "+svc, "logs · "+svc+" (service and instances)", m.serviceSources(*row.Service))
		m.reqs.SetScope(svc, "", "requests · "+svc)
	case row.Instance == nil:
		m.logs.SetSources("own "+svc, "logs · "+svc+" (builds and notes)", m.sources(svc, ""))
		m.reqs.SetScope(svc, "", "requests · "+svc)
	default:
		name := svc + "/" + row.Instance.ID
		m.logs.SetSources("instance "+name, "logs · "+name, m.sources(svc, row.Instance.ID))
		m.reqs.SetScope(svc, row.Instance.ID, "requests · "+name)
	}
}

func (m *Model) sources(service, instance string) []logpane.Source {
	buf := m.sup.Logs(service, instance)
	if buf == nil {
		return nil
	}
	label := service
	if instance != "" {
		label += "/" + instance
	}
	return []logpane.Source{{Label: label, Buf: buf}}
}

// serviceSources is a service's own log and its instances' logs, those
// of the instances removed last among them: their last lines say why
// they went away.
func (m *Model) serviceSources(s supervisor.ServiceInfo) []logpane.Source {
	out := m.sources(s.Name, "")
	for _, in := range s.Instances {
		out = append(out, m.sources(s.Name, in.ID)...)
	}
	for _, id := range s.Removed {
		out = append(out, m.sources(s.Name, id)...)
	}
	return out
}

// failedBuild returns the service whose failed build the panel shows:
// the selected one, else the first that failed.
func (m Model) failedBuild() (supervisor.ServiceInfo, bool) {
	if row, ok := m.table.Selected(); ok && row.Service.BuildErr != "" {
		return *row.Service, true
	}
	for _, s := range m.services {
		if s.BuildErr != "" {
			return s, true
		}
	}
	return supervisor.ServiceInfo{}, false
}

// running counts instances with a live process.
func (m Model) running() int {
	n := 0
	for _, s := range m.services {
		for _, in := range s.Instances {
			if common.Running(in.State) {
				n++
			}
		}
	}
	return n
}
