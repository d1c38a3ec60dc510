package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/drbot-dev/drbot/incident"
	"github.com/drbot-dev/drbot/playbooks"
)

// planSetter is what a plan reload changes: the incident service.
type planSetter interface {
	Plan() *playbooks.Plan
	SetPlan(ctx context.Context, p *playbooks.Plan) error
}

var _ planSetter = (*incident.Engine)(nil)

// reloadPlan reads the plan file again (drbot serve on SIGHUP). A valid
// plan replaces the one in use: incidents declared from now on get it, and
// the review and drill schedules become its own; open incidents keep the
// plan they were declared with. A file that cannot be read or has errors
// is refused: every error is logged (FILE:LINE:COL: message, as "drbot
// plan check" says it) and the plan in use is kept.
func reloadPlan(ctx context.Context, path string, svc planSetter, log *slog.Logger) error {
	old := svc.Plan()
	plan, diags, err := playbooks.Load(path)
	if err != nil {
		log.Error("plan reload refused: cannot read the plan; keeping the plan in use", "file", path, "err", err, "plan", short(old.Hash))
		return fmt.Errorf("reload plan: %w", err)
	}
	for _, d := range diags {
		if d.Severity == playbooks.Error {
			log.Error("plan error", "at", d.String())
		} else {
			log.Warn("plan warning", "at", d.String())
		}
	}
	if n := len(diags.Errors()); n > 0 {
		log.Error("plan reload refused; keeping the plan in use", "file", path, "errors", n, "plan", short(old.Hash),
			"hint", fmt.Sprintf("drbot plan check %s explains each error", path))
		return fmt.Errorf("reload plan: %s has %s", path, plural(n, "error"))
	}
	if plan.Hash == old.Hash {
		log.Info("plan reload: the file has not changed", "file", path, "plan", short(plan.Hash))
		return nil
	}
	if err := svc.SetPlan(ctx, plan); err != nil {
		log.Error("plan reload failed; keeping the plan in use", "file", path, "err", err, "plan", short(old.Hash))
		return fmt.Errorf("reload plan: %w", err)
	}
	log.Info("plan reloaded; open incidents keep the plan they were declared with", "file", path, "name", plan.Name,
		"plan", short(plan.Hash), "previous", short(old.Hash), "scenarios", len(plan.ScenarioOrder), "drills", len(plan.Drills),
		"review", plan.Review != nil)
	return nil
}

// reloadOnSignal reloads the plan each time a signal arrives on sig, until
// ctx ends. Reload errors are logged by reloadPlan; drbot keeps serving.
func reloadOnSignal(ctx context.Context, sig <-chan os.Signal, path string, svc planSetter, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-sig:
			log.Info("reloading the plan", "signal", s.String(), "file", path)
			_ = reloadPlan(ctx, path, svc, log)
		}
	}
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
