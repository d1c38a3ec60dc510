package main

import (
	"context"
	"errors"
	"io"
)

// serveCommand is a placeholder until its issue lands.
type serveCommand struct {
	stdout, stderr io.Writer
}

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	return errors.New("serve: not implemented yet")
}
