package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/supervisor"
)

// BenchmarkFrame measures one frame of the dashboard (refresh + View) at
// 160×48 in true colour over 20 instances whose full 10,000-line rings
// keep growing, with every service's logs merged (all), and so with a
// search whose matches the title counts (search): the cost does not
// depend on how much log there is, only on what fits on the screen.
func BenchmarkFrame(b *testing.B) {
	for _, scope := range []string{"instance", "all", "search"} {
		b.Run(scope, func(b *testing.B) {
			f := newFakeSup()
			f.services = f.services[:1]
			f.services[0].Instances = nil
			for i := range 20 {
				id := fmt.Sprint(i)
				f.services[0].Instances = append(f.services[0].Instances, supervisor.InstanceInfo{Service: "default", ID: id, State: supervisor.Ready, PID: 1000 + i})
				buf := supervisor.NewLogBuffer(10000)
				for j := range 10000 {
					buf.Add(supervisor.Stdout, fmt.Sprintf("15:04:05.000 INFO handled GET /items/%d in %dµs status=200", j, j%997))
				}
				f.logs["default/"+id] = buf
			}
			m := New(f, Options{Renderer: renderer(termenv.TrueColor), Now: func() time.Time { return now }})
			next, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
			m = next.(Model)
			keys := map[string][]string{"all": {"v", "v"}, "search": {"v", "v", "tab", "/", "4", "2", "enter"}}
			for _, k := range keys[scope] {
				next, _ = m.Update(keyMsg(k))
				m = next.(Model)
			}
			if scope == "search" && !strings.Contains(m.View(), "/42 match ") {
				b.Fatal("the search is not on")
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for _, id := range []string{"0", "7", "19"} {
					f.logs["default/"+id].Add(supervisor.Stdout, "one more line")
				}
				next, _ := m.Update(frameMsg(now))
				_ = next.View()
			}
		})
	}
}
