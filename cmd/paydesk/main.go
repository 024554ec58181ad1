// Command paydesk is the paydesk server and its operator tools: it reads the
// configuration from flags and environment variables, opens and migrates the
// database, and serves the mobile API (see `paydesk help`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills the process at once rather
	// than waiting for the graceful shutdown.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run parses the command line and runs the command it names, returning the
// process exit status: 0 done, 1 failed, 2 a usage mistake.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := &cli{cfg: DefaultConfig(), getenv: getenv, stdout: stdout, stderr: stderr, given: map[string]bool{}}
	// Settings may come before the command name as well as after it.
	rest, err := c.parse(c.flagSet("paydesk"), args)
	if err != nil {
		return exitStatus(err)
	}
	name := defaultCommand
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "paydesk: unknown command %q\n", name)
		c.usage("paydesk", c.flagSet("paydesk"))
		return 2
	}
	if err := cmd.run(ctx, c, rest); err != nil {
		if status := exitStatus(err); status != 1 {
			return status
		}
		fmt.Fprintf(stderr, "paydesk %s: %v\n", name, err)
		return 1
	}
	return 0
}

func exitStatus(err error) int {
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}
