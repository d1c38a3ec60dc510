package main

import (
	"context"
	"errors"
	"io"
)

// consoleCommand is a placeholder until its issue lands.
type consoleCommand struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (c *consoleCommand) Run(ctx context.Context, args []string) error {
	return errors.New("console: not implemented yet")
}
