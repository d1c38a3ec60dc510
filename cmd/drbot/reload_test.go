package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/incident/incidenttest"
	"github.com/drbot-dev/drbot/playbooks"
)

func TestReloadPlan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.yaml")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(smallPlan)
	first, diags, err := playbooks.Load(path)
	if err != nil || diags.HasErrors() {
		t.Fatalf("load: %v %v", err, diags)
	}
	svc, err := incident.New(incident.Config{Plan: first, Store: incidenttest.NewMemStore(), Chat: incidenttest.NewFakeChat()})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))

	tests := []struct {
		name     string
		src      string // "" removes the file
		wantErr  bool
		wantPlan func() *playbooks.Plan // nil: a new plan
		wantLogs []string
	}{
		{name: "unchanged", src: smallPlan, wantPlan: func() *playbooks.Plan { return first }, wantLogs: []string{"the file has not changed"}},
		{
			name:     "errors refused",
			src:      strings.Replace(smallPlan, "estimate: 30m", "estimte: 30m", 1) + "  ghost: {title: x}\n",
			wantErr:  true,
			wantPlan: func() *playbooks.Plan { return first },
			wantLogs: []string{`"msg":"plan error","at":"` + path + `:19:9: unknown key \"estimte\"`, `"msg":"plan error","at":"` + path + `:29:3: scenario \"ghost\": missing required key \"severity\"`, `plan reload refused; keeping the plan in use","file":"` + path + `","errors":3`},
		},
		{name: "unreadable refused", src: "", wantErr: true, wantPlan: func() *playbooks.Plan { return first }, wantLogs: []string{"cannot read the plan"}},
		{name: "valid taken", src: strings.Replace(smallPlan, "title: Chat down", "title: Chat is down", 1), wantLogs: []string{"plan reloaded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			if tt.src == "" {
				os.Remove(path)
			} else {
				write(tt.src)
			}
			before := svc.Plan()
			err := reloadPlan(ctx, path, svc, log)
			if (err != nil) != tt.wantErr {
				t.Errorf("reloadPlan: %v, want error %v", err, tt.wantErr)
			}
			got := svc.Plan()
			if tt.wantPlan != nil && got != tt.wantPlan() {
				t.Errorf("plan replaced: %.12s, want %.12s kept", got.Hash, tt.wantPlan().Hash)
			}
			if tt.wantPlan == nil && (got == before || got.Scenarios["chat"].Title != "Chat is down") {
				t.Errorf("plan not replaced by the valid one")
			}
			for _, w := range tt.wantLogs {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("logs lack %s:\n%s", w, logs.String())
				}
			}
		})
	}
}

func TestReloadOnSignal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(smallPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, _ := playbooks.Load(path)
	svc, err := incident.New(incident.Config{Plan: p, Store: incidenttest.NewMemStore()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(smallPlan, "title: Chat down", "title: Chat is down", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		reloadOnSignal(ctx, sig, path, svc, slog.New(slog.DiscardHandler))
	}()
	sig <- syscall.SIGHUP
	deadline := time.Now().Add(5 * time.Second)
	for svc.Plan() == p && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if svc.Plan() == p {
		t.Error("SIGHUP did not reload the plan")
	}
	cancel()
	<-done
}
