package main

import (
	"context"
	"errors"
	"io"
)

// planCommand is a placeholder until its issue lands.
type planCommand struct {
	stdout, stderr io.Writer
}

func (c *planCommand) Run(ctx context.Context, args []string) error {
	return errors.New("plan: not implemented yet")
}
