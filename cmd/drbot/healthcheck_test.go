package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{":3000", "http://127.0.0.1:3000/healthz"},
		{"0.0.0.0:3000", "http://127.0.0.1:3000/healthz"},
		{"[::]:8080", "http://127.0.0.1:8080/healthz"},
		{"drbot.internal:3000", "http://drbot.internal:3000/healthz"},
		{"[::1]:3000", "http://[::1]:3000/healthz"},
	} {
		got, err := healthURL(tc.addr)
		if err != nil || got != tc.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
	if _, err := healthURL("3000"); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Errorf("healthURL(3000): %v, want an error saying HOST:PORT", err)
	}
}

// TestHealthcheckEndToEnd: the binary's healthcheck exits 0 against a
// running drbot serve, and 1 with the reason when nothing answers.
func TestHealthcheckEndToEnd(t *testing.T) {
	bin := drbotBinary(t)
	fs := newFakeWorkspace(t)
	s := startServe(t, fs, t.TempDir())
	addr := strings.TrimPrefix(s.base, "http://")
	out, err := exec.Command(bin, "healthcheck", "--addr", addr).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("healthcheck against a running serve: %v: %q, want exit 0 and ok", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "healthcheck", "--addr", closed)
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "connection refused") {
		t.Fatalf("healthcheck against a closed port: %v: %q, want exit 1 saying connection refused", err, out)
	}
}

// TestCleanStopLeavesOneFile: after SIGTERM the database is one file, with no
// -wal or -shm beside it, so a restore after a clean stop has nothing to
// move aside (docs/operations.md).
func TestCleanStopLeavesOneFile(t *testing.T) {
	fs := newFakeWorkspace(t)
	dir := t.TempDir()
	s := startServe(t, fs, dir)
	s.stop()
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(filepath.Join(dir, "drbot.db"+suffix)); err == nil {
			t.Errorf("drbot.db%s is still there after a clean stop", suffix)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "drbot.db")); err != nil {
		t.Fatal(err)
	}
}
