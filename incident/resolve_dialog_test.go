package incident_test

import (
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
)

// TestResolveWithAllOrNothing: the resolve dialog's answer is recorded
// whole or not at all. A recovery point drbot cannot read leaves the
// incident open with no impact recorded; a second resolver's dialog, after
// the incident was resolved, is refused on its resolution and records
// nothing (before, its cause replaced the first's, silently).
func TestResolveWithAllOrNothing(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, svcPlan(t))
	e.declare("db-corruption", "", false)
	ch := e.channel(1)
	e.clock.Set(svcT0.Add(30 * time.Minute))
	req := incident.ResolveRequest{UserID: uAlice, ChannelID: ch, Resolution: "Restored", Impact: "Checkout down", RecoveryPoint: "soon"}
	_, err := e.svc.ResolveWith(e.ctx, req)
	if incident.ErrorCode(err) != incident.EINVALID || incident.ErrorField(err) != incident.FieldRecoveryPoint {
		t.Fatalf("a recovery point of %q: %v (field %q), want EINVALID on recovery_point", req.RecoveryPoint, err, incident.ErrorField(err))
	}
	inc := e.incident(1)
	if inc.State != incident.StateOpen || inc.Impact != "" {
		t.Fatalf("after a refused dialog: state %s, impact %q; want open and nothing recorded", inc.State, inc.Impact)
	}
	events := len(e.kinds(1))

	req.RecoveryPoint, req.Cause = "10:05", "Firmware"
	if _, err := e.svc.ResolveWith(e.ctx, req); err != nil {
		t.Fatal(err)
	}
	inc = e.incident(1)
	if inc.State != incident.StateResolved || inc.Resolution != "Restored" || inc.Impact != "Checkout down" || inc.RootCause != "Firmware" || inc.RecoveryPoint.IsZero() {
		t.Fatalf("resolved: %+v", inc)
	}
	if len(e.kinds(1)) <= events {
		t.Fatal("the accepted dialog recorded no events")
	}
	events = len(e.kinds(1))

	_, err = e.svc.ResolveWith(e.ctx, incident.ResolveRequest{UserID: uBob, ChannelID: ch, Resolution: "second resolver", Cause: "bob's cause"})
	if incident.ErrorCode(err) != incident.ECONFLICT || incident.ErrorField(err) != incident.FieldResolution {
		t.Fatalf("a second resolve dialog: %v, want ECONFLICT on resolution", err)
	}
	if inc := e.incident(1); inc.RootCause != "Firmware" || inc.Resolution != "Restored" || len(e.kinds(1)) != events {
		t.Errorf("the refused second dialog changed the incident: cause %q, resolution %q, %d events (was %d)", inc.RootCause, inc.Resolution, len(e.kinds(1)), events)
	}
}
