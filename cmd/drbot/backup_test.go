package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/storage"
)

// backupDB makes a database with n incidents and returns its path.
func backupDB(t *testing.T, n int) string {
	t.Helper()
	return newDB(t, func(tx incident.Tx) error {
		for range n {
			inc := &incident.Incident{Scenario: "db-corruption", State: incident.StateOpen}
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
			if err := tx.Append(&incident.Event{IncidentID: inc.ID, Kind: incident.KindDeclared}); err != nil {
				return err
			}
		}
		return nil
	})
}

func runBackup(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), append([]string{"backup"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBackupCommand(t *testing.T) {
	db := backupDB(t, 2)
	dest := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, stderr := runBackup("--db", db, dest)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if want := "wrote " + dest + " ("; !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout %q does not start with %q", stdout, want)
	}
	if !strings.Contains(stdout, "2 incidents): a consistent copy of "+db) {
		t.Errorf("stdout %q does not say what it copied", stdout)
	}
	st, err := storage.Open(context.Background(), storage.Config{Path: dest, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(context.Background(), func(tx incident.Tx) error {
		events, err := tx.Timeline(2)
		if len(events) != 1 {
			t.Errorf("the copy's incident #2 has %d events, want 1", len(events))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBackupCommandDBFromEnv(t *testing.T) {
	t.Setenv("DRBOT_DB", backupDB(t, 1))
	dest := filepath.Join(t.TempDir(), "copy.db")
	// Flags may follow DEST.
	code, stdout, stderr := runBackup(dest, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "1 incident)") {
		t.Errorf("stdout %q", stdout)
	}
}

func TestBackupCommandErrors(t *testing.T) {
	db := backupDB(t, 1)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no DEST", []string{"--db", db}, 2, "want one DEST"},
		{"two DESTs", []string{"--db", db, filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")}, 2, "want one DEST"},
		{"unknown flag", []string{"--nope", filepath.Join(dir, "c.db")}, 2, "flag provided but not defined"},
		{"help", []string{"-h"}, 0, "Usage: drbot backup"},
		{"bad log level", []string{"--db", db, "--log-level", "loud", filepath.Join(dir, "d.db")}, 2, "--log-level"},
		{"DEST exists", []string{"--db", db, existing}, 1, "exists"},
		{"DEST a directory", []string{"--db", db, dir}, 1, "it is a directory; give the backup a file name in it, such as " + filepath.Join(dir, "drbot-")},
		{"no database", []string{"--db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "e.db")}, 1, "no database at"},
		{"DEST directory missing", []string{"--db", db, filepath.Join(dir, "no", "f.db")}, 1, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBackup(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("got exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.code, tt.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	if got, _ := os.ReadFile(existing); string(got) != "keep me" {
		t.Errorf("the existing DEST was changed to %q", got)
	}
	for _, name := range []string{"a.db", "b.db", "c.db", "d.db", "e.db", "missing.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed backup left %s behind", name)
		}
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{48 * 1024, "48.0 KiB"},
		{3*1024*1024 + 200*1024, "3.2 MiB"},
		{5 << 30, "5.0 GiB"},
		{7 << 40, "7.0 TiB"},
		{2048 << 40, "2048.0 TiB"},
	}
	for _, tt := range tests {
		if got := byteSize(tt.n); got != tt.want {
			t.Errorf("byteSize(%d): got %q, want %q", tt.n, got, tt.want)
		}
	}
}
