package main

import (
	"context"
	"errors"
	"io"
)

// incidentsCommand is a placeholder until its issue lands.
type incidentsCommand struct {
	stdout, stderr io.Writer
}

func (c *incidentsCommand) Run(ctx context.Context, args []string) error {
	return errors.New("incidents: not implemented yet")
}
