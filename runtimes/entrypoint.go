package runtimes

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// entrypoint runs a service's app.yaml entrypoint through the shell, as App
// Engine does, so $PORT and other variables expand. Config loading has
// already put "exec " in front, so the shell replaces itself with the
// server and no shell stays behind as the parent.
type entrypoint struct{ family string }

func (e entrypoint) Name() string { return e.family }

func (entrypoint) Build(context.Context, Build, io.Writer) (Artifact, error) {
	return Artifact{}, nil
}

func (entrypoint) Launch(svc *config.Service, _ Artifact, inst Instance) (LaunchSpec, error) {
	env, warnings := Environ(svc, inst)
	cmd := strings.ReplaceAll(svc.Entrypoint, "{port}", strconv.Itoa(inst.Port))
	return LaunchSpec{
		Argv:     []string{"/bin/sh", "-c", cmd},
		Dir:      svc.Dir,
		Env:      env,
		Warnings: warnings,
	}, nil
}
