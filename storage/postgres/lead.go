package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// LeadConfig says what Lead does while this instance leads.
type LeadConfig struct {
	// Run does the leader's work (the engine's timers and outbox) until its
	// context ends, which happens when leadership is lost or Lead's context
	// ends. Required.
	Run func(ctx context.Context)
	// Wake is called when another instance committed new timers or outbox
	// messages (the engine's Wake). Optional.
	Wake func()
	// Changed is called with true on taking the lead and false on losing
	// it. Optional.
	Changed func(leader bool)
	// Poll is how often a standby tries to take the lead, and how often
	// the leader checks its connection; default 1 s. A standby takes over
	// within Poll of the leader's connection closing.
	Poll time.Duration
	// Retry is called with the error that ended a spell of leading or
	// waiting (the connection broke); Lead then connects again after Poll.
	Retry func(err error)
}

// Lead makes this instance one of the candidates to lead, and blocks until
// ctx ends. At most one instance of a schema leads at a time: the one that
// holds its leader lock, a session-level advisory lock on a connection of
// its own. When the leader's process dies its connection closes and
// PostgreSQL releases the lock at once (a host that vanishes is noticed by
// TCP keepalives, set to about 10 s); a standby takes it within Poll.
//
// The leader checks its connection every Poll and, should a check fail,
// stops Run before trying again: an instance cut off from the database
// stops leading within 2*Poll, before PostgreSQL gives the lock to another.
// Even two leaders could not fire a timer twice or settle a message twice:
// each does so in a write transaction (Update).
func (s *Store) Lead(ctx context.Context, cfg LeadConfig) error {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	for ctx.Err() == nil {
		err := s.leadOnce(ctx, cfg)
		if ctx.Err() != nil {
			break
		}
		if cfg.Retry != nil && err != nil {
			cfg.Retry(s.redact(err))
		}
		sleep(ctx, cfg.Poll)
	}
	return nil
}

// leadOnce connects, waits for the lock and leads until the connection
// fails or ctx ends.
func (s *Store) leadOnce(ctx context.Context, cfg LeadConfig) error {
	conn, err := s.lockConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := s.awaitLock(ctx, conn, cfg.Poll); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.locks.channel()}.Sanitize()); err != nil {
		return fmt.Errorf("listen for new work: %w", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	if cfg.Changed != nil {
		cfg.Changed(true)
	}
	go func() {
		defer close(done)
		cfg.Run(runCtx)
	}()
	defer func() {
		stop()
		<-done
		if cfg.Changed != nil {
			cfg.Changed(false)
		}
	}()
	return s.holdLock(ctx, conn, cfg)
}

// awaitLock tries the leader lock every poll until it has it.
func (s *Store) awaitLock(ctx context.Context, conn *pgx.Conn, poll time.Duration) error {
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, s.locks.leader()).Scan(&got); err != nil {
			return fmt.Errorf("try the leader lock: %w", err)
		}
		if got {
			return nil
		}
		if !sleep(ctx, poll) {
			return ctx.Err()
		}
	}
}

// holdLock waits for notifications of new work, and checks the connection
// (and so the lock) every poll, until either fails or ctx ends.
func (s *Store) holdLock(ctx context.Context, conn *pgx.Conn, cfg LeadConfig) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, cfg.Poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			if cfg.Wake != nil {
				cfg.Wake()
			}
			continue
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("wait for new work: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.Poll)
		var held bool
		err = conn.QueryRow(pctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
			AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1)`, s.locks.leader()).Scan(&held)
		cancel()
		if err != nil {
			return fmt.Errorf("check the leader lock: %w", err)
		}
		if !held {
			return errors.New("the leader lock is no longer held")
		}
	}
}

// lockConn opens the leader's own connection: outside the pool (the lock
// belongs to the session), with TCP keepalives on both ends so that a
// vanished peer is noticed in about 10 s, and with a context watcher that
// only sets a deadline (a cancel request sent after a timed-out wait could
// cancel the next query).
func (s *Store) lockConn(ctx context.Context) (*pgx.Conn, error) {
	cc := s.pool.Config().ConnConfig.Copy()
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["tcp_keepalives_idle"] = "5"
	cc.RuntimeParams["tcp_keepalives_interval"] = "2"
	cc.RuntimeParams["tcp_keepalives_count"] = "3"
	cc.RuntimeParams["application_name"] = "drbot leader"
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}}
	cc.DialFunc = d.DialContext
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connect for the leader lock: %w", err)
	}
	return conn, nil
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ErrLeaderElsewhere is TryLead's error when another instance leads.
var ErrLeaderElsewhere = errors.New("another drbot instance leads on this database")

// TryLead takes the leader lock now, or fails with ErrLeaderElsewhere, and
// holds it until release: for a process that must work the database alone
// (drbot console), while instances of drbot serve stand by.
func (s *Store) TryLead(ctx context.Context) (release func(), err error) {
	conn, err := s.lockConn(ctx)
	if err != nil {
		return nil, s.redact(err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, s.locks.leader()).Scan(&got); err != nil || !got {
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, s.redact(fmt.Errorf("try the leader lock: %w", err))
		}
		return nil, ErrLeaderElsewhere
	}
	return func() { conn.Close(context.WithoutCancel(ctx)) }, nil
}
