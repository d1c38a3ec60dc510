package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// defaultConsoleDB is the console's default database: a file of its own, so that
// incidents played with the console's clock never become real ones, with
// live timers and pages, the first time "drbot serve" starts in the same
// directory (serve's default is drbot.db).
const defaultConsoleDB = "drbot-console.db"

// consoleMarkKey is a key/value entry the console leaves in every database
// it opens. serve refuses a database that has it and holds incidents,
// unless given --force.
const consoleMarkKey = "console:used"

// markConsole records that the console worked on db and says on out (the
// console's stderr, apart from the transcript) how many incidents are open
// in it, so a player knows what is already there: always to a person at a
// terminal, and to a script only when some are open.
//
// A database drbot serve has worked is refused (refuseServed): the
// console would print, and mark as sent, the Slack messages still waiting
// there (real pages lost), and fire its timers on its own clock.
func markConsole(ctx context.Context, db incident.Store, name string, out io.Writer, interactive bool) error {
	open := 0
	err := db.Update(ctx, func(tx incident.Tx) error {
		if _, served, err := tx.Get(serveMarkKey); err != nil {
			return err
		} else if served {
			return refuseServed(tx, name)
		}
		if err := tx.Put(consoleMarkKey, "true"); err != nil {
			return err
		}
		list, err := tx.Incidents(incident.Filter{State: incident.StateOpen})
		open = len(list)
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case open == 0 && !interactive:
	case open == 0:
		fmt.Fprintf(out, "drbot console on %s: no open incidents. Type help for the lines it takes.\n", name)
	case open == 1:
		fmt.Fprintf(out, "drbot console on %s: 1 incident is open (/incident list shows it). Type help for the lines it takes.\n", name)
	default:
		fmt.Fprintf(out, "drbot console on %s: %d incidents are open (/incident list shows them). Type help for the lines it takes.\n", name, open)
	}
	return nil
}

// serveMarkKey is a key/value entry drbot serve leaves in every database
// it serves; the console refuses such a database when it holds incidents.
const serveMarkKey = "serve:used"

// markServe records that drbot serve works on db.
// Its incidents from then on are real: the console's clock, if it played
// there before (serve --force), is forgotten, so that drbot incidents and
// drbot web measure in real time again.
func markServe(ctx context.Context, db incident.Store) error {
	return db.Update(ctx, func(tx incident.Tx) error {
		if _, err := tx.DeleteKeys(consoleClockKey, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return err
		}
		return tx.Put(serveMarkKey, "true")
	})
}

// refuseServed is the console's refusal of a database drbot serve has
// worked: even with no incident, its outbox may hold the contact-list
// review's messages and its timers the reviews and drills, which the
// console would print (and mark as sent) and fire on its own clock.
func refuseServed(tx incident.Tx, name string) error {
	list, err := tx.Incidents(incident.Filter{Limit: 1000})
	if err != nil {
		return err
	}
	holds := ""
	if len(list) > 0 {
		holds = " and holds " + plural(len(list), "incident")
	}
	return fmt.Errorf("%s is a database drbot serve works on%s: the console would print, and mark as sent, the Slack "+
		"messages waiting there (real pages would never reach Slack) and fire its timers (escalations, reviews, drills) on its own clock. "+
		"Play in a database of the console's own (--db drbot-console.db); to read this one, use drbot incidents, "+
		"drbot postmortem or drbot web", name, holds)
}

// refuseConsoleDB returns an error when db was played with by the console
// and holds incidents: serving it would page real people for incidents
// made with the console's clock. force turns the refusal into a warning.
func refuseConsoleDB(ctx context.Context, db incident.Store, name string, force bool) (warning string, err error) {
	var used bool
	var n int
	err = db.View(ctx, func(tx incident.Tx) error {
		_, ok, err := tx.Get(consoleMarkKey)
		if err != nil || !ok {
			return err
		}
		used = true
		list, err := tx.Incidents(incident.Filter{Limit: 1000})
		n = len(list)
		return err
	})
	if err != nil || !used || n == 0 {
		return "", err
	}
	msg := fmt.Sprintf("%s holds %s made by drbot console, whose clock is not real time: serving it would "+
		"page people and fire timers for play incidents", name, plural(n, "incident"))
	if force {
		return msg + "; started anyway (--force)", nil
	}
	return "", fmt.Errorf("%s. Give serve a database of its own (--db / DRBOT_DB), or pass --force if these incidents are real", msg)
}

// consoleClockKey holds the console's clock (RFC 3339, UTC) when its last
// session on a database ended: the next session resumes there, and the
// commands that read the database measure elapsed times and the RTO at
// it, since the incidents in it were played at that clock, not at real
// time.
const consoleClockKey = "console:clock"

// saveConsoleClock records the console's clock t at the end of a session.
func saveConsoleClock(ctx context.Context, db incident.Store, t time.Time) error {
	return db.Update(ctx, func(tx incident.Tx) error {
		return tx.Put(consoleClockKey, t.UTC().Format(time.RFC3339Nano))
	})
}

// consoleClock is the clock saveConsoleClock recorded in db, if any.
func consoleClock(ctx context.Context, db incident.Store) (t time.Time, ok bool, err error) {
	err = db.View(ctx, func(tx incident.Tx) error {
		if _, served, err := tx.Get(serveMarkKey); err != nil || served {
			return err // real incidents since: real time
		}
		v, found, err := tx.Get(consoleClockKey)
		if err != nil || !found {
			return err
		}
		t, err = time.Parse(time.RFC3339Nano, v)
		ok = err == nil
		return nil // a value this code did not write is passed over
	})
	return t, ok, err
}

// dbNow is "now" for a command that reads db (incidents, stats,
// postmortem): fixed when a test sets it; in a database the console
// played in, the console's clock (playedNow); else the wall clock.
func dbNow(ctx context.Context, db incident.Store, fixed func() time.Time, stderr io.Writer, name string) time.Time {
	if fixed != nil {
		return fixed()
	}
	if t, ok := playedNow(ctx, db, stderr, name); ok {
		return t
	}
	return time.Now()
}

// playedNow is the console's clock when the console played in db, said
// on stderr so that nobody takes the figures for real time.
func playedNow(ctx context.Context, db incident.Store, stderr io.Writer, name string) (time.Time, bool) {
	t, ok, err := consoleClock(ctx, db)
	if err != nil || !ok {
		return time.Time{}, false
	}
	fmt.Fprintf(stderr, "drbot: %s was played in by drbot console: times are measured at the console's clock, %s, not now\n",
		name, t.Format("2006-01-02 15:04 MST"))
	return t, true
}
