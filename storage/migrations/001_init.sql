-- The first schema of drbot. Every time is Unix milliseconds, UTC, in an
-- INTEGER column; see the package documentation.

-- One row per incident. id is the incident number people say ("incident #7"),
-- assigned as max+1 inside the write transaction. The columns are what
-- queries select on; data is the whole incident.Incident as JSON, so the
-- engine can add fields without a migration.
CREATE TABLE incidents (
	id          INTEGER PRIMARY KEY,
	state       TEXT    NOT NULL,
	scenario    TEXT    NOT NULL,
	drill       INTEGER NOT NULL CHECK (drill IN (0, 1)),
	declared_at INTEGER NOT NULL,
	channel_id  TEXT    NOT NULL DEFAULT '',
	data        TEXT    NOT NULL CHECK (json_valid(data))
) STRICT;
CREATE INDEX incidents_state ON incidents (state, drill, id);
CREATE INDEX incidents_scenario ON incidents (scenario);
CREATE INDEX incidents_declared_at ON incidents (declared_at);
CREATE INDEX incidents_channel ON incidents (channel_id);

-- The timeline is the record a postmortem is written from: append-only,
-- enforced by the triggers below, not only by the code.
CREATE TABLE timeline (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES incidents (id),
	at          INTEGER NOT NULL,
	kind        TEXT    NOT NULL,
	actor       TEXT    NOT NULL DEFAULT '',
	text        TEXT    NOT NULL DEFAULT '',
	data        TEXT CHECK (data IS NULL OR json_valid(data))
) STRICT;
CREATE INDEX timeline_incident ON timeline (incident_id, id);
CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
BEGIN
	SELECT RAISE(ABORT, 'timeline is append-only: rows cannot be updated');
END;
CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
BEGIN
	SELECT RAISE(ABORT, 'timeline is append-only: rows cannot be deleted');
END;
-- INSERT OR REPLACE deletes the row it replaces without firing delete
-- triggers (unless recursive_triggers is on), so refuse it here.
CREATE TRIGGER timeline_no_replace BEFORE INSERT ON timeline
WHEN EXISTS (SELECT 1 FROM timeline WHERE id = NEW.id)
BEGIN
	SELECT RAISE(ABORT, 'timeline is append-only: rows cannot be replaced');
END;

-- Deadlines. key is unique, so setting a timer again moves it instead of
-- doubling it. incident_id is 0 for timers of no incident, hence no foreign key.
CREATE TABLE timers (
	key         TEXT    PRIMARY KEY,
	incident_id INTEGER NOT NULL DEFAULT 0,
	kind        TEXT    NOT NULL,
	due         INTEGER NOT NULL,
	data        TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX timers_due ON timers (due, key);
CREATE INDEX timers_incident ON timers (incident_id);

-- Outgoing Slack calls. Rows are kept once sent or dropped (for metrics and
-- audit); the (state, lane, id) index lets the worker find the head of
-- each lane by seeking to state = 'pending', never reading sent rows.
-- A zero due (time.Time{} in milliseconds) means at once.
CREATE TABLE outbox (
	id          INTEGER PRIMARY KEY,
	lane        TEXT    NOT NULL,
	incident_id INTEGER NOT NULL DEFAULT 0,
	kind        TEXT    NOT NULL,
	body        TEXT    NOT NULL CHECK (json_valid(body)),
	due         INTEGER NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dropped')),
	created     INTEGER NOT NULL,
	sent_at     INTEGER,
	dropped_at  INTEGER
) STRICT;
CREATE INDEX outbox_lane ON outbox (state, lane, id);

-- Posted messages remembered by name, so that a later call can update them.
CREATE TABLE refs (
	ref        TEXT PRIMARY KEY,
	channel_id TEXT NOT NULL,
	ts         TEXT NOT NULL
) STRICT;

-- Every plan an incident was declared under, by hash, so a postmortem can
-- show the plan as it was even after the file changed.
CREATE TABLE plans (
	hash    TEXT    PRIMARY KEY,
	source  BLOB    NOT NULL,
	created INTEGER NOT NULL
) STRICT;

-- Small state: the email->user cache, schedules, processed Slack event ids.
CREATE TABLE kv (
	key     TEXT    PRIMARY KEY,
	value   TEXT    NOT NULL,
	updated INTEGER NOT NULL
) STRICT;
