package runtimes

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// runTool runs a build tool (go build, pip, npm) in dir and returns its
// output, which is also copied to out as it comes. env, when not nil, is
// added to appdeck's environment. The tool leads its own process group so
// that cancelling ctx stops whatever it started too.
func runTool(ctx context.Context, dir string, env []string, out io.Writer, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, out)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild that keeps the output pipe open must not hold up the
	// build once the tool itself has exited.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	return buf.String(), err
}
