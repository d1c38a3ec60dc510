package console

import (
	"context"
	"fmt"
	"time"

	"github.com/drbot-dev/drbot/playbooks"
)

// The console's clock: ticking until nothing is due, and "wait" moving it
// on.

// maxTicks bounds how often the console ticks without the work due going
// away, so that a service that keeps something due "now" cannot hang it.
const maxTicks = 1000

// settle ticks until nothing is due at the current time, so that the
// outbox is delivered (and printed) before the next line.
func (c *Console) settle(ctx context.Context) error {
	for range maxTicks {
		if err := c.svc.Tick(ctx); err != nil {
			return fmt.Errorf("tick: %w", err)
		}
		due, ok, err := c.svc.NextDue(ctx)
		if err != nil {
			return fmt.Errorf("next due: %w", err)
		}
		if !ok || due.After(c.Now()) {
			return nil
		}
	}
	return fmt.Errorf("work due at %s is still due after %d ticks", c.Now().Format(time.RFC3339), maxTicks)
}

// wait moves the clock forward by a duration, stopping at each due time on
// the way so that escalations and RTO alerts fire when they fall due, in
// order, each printed at its own time.
func (c *Console) wait(ctx context.Context, arg string) error {
	d, err := playbooks.ParseDuration(arg)
	if err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	if d < 0 {
		return fmt.Errorf("wait %s: the clock only goes forward", arg)
	}
	target := c.Now().Add(d)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		due, ok, err := c.svc.NextDue(ctx)
		if err != nil {
			return fmt.Errorf("next due: %w", err)
		}
		if !ok || due.After(target) {
			break
		}
		if due.After(c.Now()) {
			c.setNow(due)
		}
		if err := c.settle(ctx); err != nil {
			return err
		}
	}
	c.setNow(target)
	if err := c.settle(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.printf("", "", "(%s later)", playbooks.FormatDuration(d))
	c.mu.Unlock()
	return nil
}
