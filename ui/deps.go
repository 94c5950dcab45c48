// Package ui holds appdeck's two front ends: the live Bubble Tea
// dashboard and the headless line printer used in CI and pipes. Both read
// the supervisor through the Source interface and pull what they show on
// a tick; nothing is pushed to them line by line.
package ui

import "github.com/appdeck/appdeck/supervisor"

// Source is what the front ends read.
type Source interface {
	Snapshot() []supervisor.ServiceInfo
	// Logs returns an instance's log, or the service's own log when
	// instance is "", or nil for unknown names.
	Logs(service, instance string) *supervisor.LogBuffer
}

// Actions are what the dashboard's keys ask of the supervisor. They may
// block (a graceful stop waits for requests in flight), so the dashboard
// runs them as commands, never inside Update.
type Actions interface {
	Restart(service, id string) error
	StopInstance(service, id string) error
	StartInstance(service, id string) error
	Kill(service, id string) error
	Scale(service string, n int) error
	Rebuild(service string) error
	RestartService(service string) error
}

// Supervisor is everything the dashboard uses; *supervisor.Supervisor
// implements it, tests use fakes.
type Supervisor interface {
	Source
	Actions
	Requests() *supervisor.Ring[supervisor.Request]
	Subscribe() (<-chan supervisor.Event, func())
}

var _ Supervisor = (*supervisor.Supervisor)(nil)

// Header is the fixed information shown at the top of the dashboard.
type Header struct {
	App   string // the app's name
	Host  string // where the service ports listen, as a browser should use it
	Admin string // admin URL, "" when none
}
