package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
)

func TestRefuseConsoleDB(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{Path: filepath.Join(t.TempDir(), "drbot.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if w, err := refuseConsoleDB(ctx, st, "drbot.db", false); w != "" || err != nil {
		t.Fatalf("a fresh database: %q, %v; want it served", w, err)
	}
	if err := markConsole(ctx, st, "drbot.db", io.Discard, false); err != nil {
		t.Fatal(err)
	}
	if w, err := refuseConsoleDB(ctx, st, "drbot.db", false); w != "" || err != nil {
		t.Fatalf("a console database with no incidents: %q, %v; want it served", w, err)
	}
	err = st.Update(ctx, func(tx incident.Tx) error {
		return tx.CreateIncident(&incident.Incident{Scenario: "db-corruption", Title: "play", State: incident.StateOpen})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refuseConsoleDB(ctx, st, "drbot.db", false); err == nil || !strings.Contains(err.Error(), "1 incident made by drbot console") {
		t.Fatalf("a console database with an incident: %v; want a refusal", err)
	}
	if w, err := refuseConsoleDB(ctx, st, "drbot.db", true); err != nil || !strings.Contains(w, "started anyway (--force)") {
		t.Fatalf("with --force: %q, %v; want a warning", w, err)
	}
}
