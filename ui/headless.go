package ui

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/appdeck/appdeck/supervisor"
)

// servicePalette colours services' prefixes so interleaved lines stay
// easy to tell apart; ANSI colours follow the user's terminal theme.
var servicePalette = []lipgloss.Color{"6", "5", "3", "2", "4", "13", "14", "11"}

// Headless prints every log line of every service and instance to w as
// "service/instance | line" until ctx ends, then prints what is left.
func Headless(ctx context.Context, src Source, w io.Writer, r *lipgloss.Renderer) {
	p := printer{src: src, w: w, r: r, seen: map[string]uint64{}}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.flush()
			return
		case <-t.C:
			p.flush()
		}
	}
}

type printer struct {
	src  Source
	w    io.Writer
	r    *lipgloss.Renderer
	seen map[string]uint64 // next Seq to print, by log name
}

func (p *printer) flush() {
	for i, svc := range p.src.Snapshot() {
		style := p.r.NewStyle().Foreground(servicePalette[i%len(servicePalette)])
		p.print(svc.Name, "", style)
		for _, in := range svc.Instances {
			p.print(svc.Name, in.ID, style)
		}
	}
}

func (p *printer) print(service, instance string, style lipgloss.Style) {
	logs := p.src.Logs(service, instance)
	if logs == nil {
		return
	}
	name := service
	if instance != "" {
		name += "/" + instance
	}
	next, ok := p.seen[name]
	if !ok {
		next = 1
	}
	prefix := style.Render(name + " |")
	for {
		lines := logs.Since(next, 512)
		if len(lines) == 0 {
			break
		}
		if gap := lines[0].Seq - next; gap > 0 {
			fmt.Fprintf(p.w, "%s … %d lines dropped (the log ring overflowed)\n", prefix, gap)
		}
		for _, l := range lines {
			text := l.Text
			if l.Stream == supervisor.System {
				text = "[appdeck] " + text
			}
			fmt.Fprintf(p.w, "%s %s\n", prefix, text)
		}
		next = lines[len(lines)-1].Seq + 1
	}
	p.seen[name] = next
}
