// Package app turns a validated config into running components. Each target
// has its own small wiring file; Run picks one.
package app

import (
	"context"
	"fmt"
	"log/slog"

	"kradius.dev/services/config"
)

// UnavailableError is returned for a target whose issue has not landed yet.
type UnavailableError struct {
	Target string
	Issue  string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("target %q is not available in this build yet: it arrives with %s; use -target=all", e.Target, e.Issue)
}

type runner func(ctx context.Context, cfg config.Config, log *slog.Logger) error

// targets maps each -target to its wiring, or to the issue that will bring it.
var targets = map[string]struct {
	run     runner
	pending string
}{
	"all":      {run: runAll},
	"edge":     {run: runEdge},
	"accounts": {run: runAccounts},
	"dids":     {run: runDIDs},
	"cdr":      {run: runCDR},
}

// Run runs cfg.Target until ctx ends.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	t, ok := targets[cfg.Target]
	if !ok {
		return fmt.Errorf("unknown target %q", cfg.Target)
	}
	if t.run == nil {
		return &UnavailableError{Target: cfg.Target, Issue: t.pending}
	}
	return t.run(ctx, cfg, log.With("target", cfg.Target))
}
