package main

import (
	"context"
	"errors"
	"io"
)

// backupCommand is a placeholder until its issue lands.
type backupCommand struct {
	stdout, stderr io.Writer
}

func (c *backupCommand) Run(ctx context.Context, args []string) error {
	return errors.New("backup: not implemented yet")
}
