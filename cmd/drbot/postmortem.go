package main

import (
	"context"
	"errors"
	"io"
)

// postmortemCommand is a placeholder until its issue lands.
type postmortemCommand struct {
	stdout, stderr io.Writer
}

func (c *postmortemCommand) Run(ctx context.Context, args []string) error {
	return errors.New("postmortem: not implemented yet")
}
