package runtimes

import (
	"context"
	"io"
)

// custom runs any entrypoint (For makes sure there is one), with the port
// in $PORT and in place of {port}.
type custom struct{ launch }

func (custom) Name() string { return "custom" }

func (custom) Build(_ context.Context, b Build, _ io.Writer) (Artifact, error) {
	return entrypointArtifact(b.Service, "custom", b.Service.Entrypoint, nil)
}
