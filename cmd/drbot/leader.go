package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage/postgres"
)

// Who works the timers and the outbox. With SQLite, one process per file:
// serve and console hold the lease (lease.go) and always run the engine.
// With PostgreSQL any number of serve instances answer Slack, and the one
// that holds the leader lock runs the engine (postgres.Store.Lead); the
// console takes the leader lock for itself, or refuses to start.

// hold takes the database for command until release: the lease on SQLite;
// on PostgreSQL nothing for serve (instances share the database) and the
// leader lock for the console.
func (d *database) hold(ctx context.Context, command string) (release func(), err error) {
	if d.sqlite != nil {
		return acquireLease(ctx, d.sqlite, command)
	}
	if command == "serve" {
		return func() {}, nil
	}
	release, err = d.pg.TryLead(ctx)
	if errors.Is(err, postgres.ErrLeaderElsewhere) {
		return nil, fmt.Errorf("%w (drbot serve): give drbot console a database of its own (--db /tmp/drbot-try.db)", err)
	}
	return release, err
}

// runEngine works svc's timers and outbox until ctx ends: at once on
// SQLite, while this instance leads on PostgreSQL. It records in d whether
// it leads, for /healthz and the drbot_leader metric, and logs each change.
func (d *database) runEngine(ctx context.Context, svc *incident.Engine, log *slog.Logger) error {
	if d.pg == nil {
		d.leading.Store(true)
		return svc.Run(ctx)
	}
	log.Info("standing by: another instance may lead; this one answers Slack and takes over if the leader goes")
	return d.pg.Lead(ctx, postgres.LeadConfig{
		Run:  func(ctx context.Context) { _ = svc.Run(ctx) },
		Wake: svc.Wake,
		Changed: func(leader bool) {
			d.leading.Store(leader)
			if leader {
				log.Info("took over as leader: this instance now fires timers and delivers the outbox")
			} else {
				log.Warn("no longer the leader: standing by")
			}
		},
		Retry: func(err error) {
			log.Error("leader election: lost the database connection; connecting again", "err", err)
		},
	})
}

// role is "leader" or "standby" on PostgreSQL, for /healthz; nil on SQLite.
func (d *database) role() func() string {
	if d.pg == nil {
		return nil
	}
	return func() string {
		if d.leading.Load() {
			return "leader"
		}
		return "standby"
	}
}

// leaderGauge is the drbot_leader metric: 1 while this instance leads.
func (d *database) leaderGauge(context.Context) (int, error) {
	if d.leading.Load() {
		return 1, nil
	}
	return 0, nil
}

// firstRequest shares the replay check of signed requests among the
// instances of a PostgreSQL database; nil on SQLite, where one process
// serves and remembers them in memory (bot/replay.go).
func (d *database) firstRequest(svc *incident.Engine) func(context.Context, string) (bool, error) {
	if d.pg == nil {
		return nil
	}
	return svc.FirstRequest
}
