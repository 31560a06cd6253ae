// Package app turns a validated config into running components. Each target
// has its own small wiring file; Run picks one.
package app

import (
	"context"
	"fmt"
	"log/slog"

	"kradius.dev/services/config"
)

type runner func(ctx context.Context, cfg config.Config, log *slog.Logger) error

// targets maps each -target to its wiring.
var targets = map[string]runner{
	"all":      runAll,
	"edge":     runEdge,
	"accounts": runAccounts,
	"dids":     runDIDs,
	"cdr":      runCDR,
}

// Run runs cfg.Target until ctx ends.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	run, ok := targets[cfg.Target]
	if !ok {
		return fmt.Errorf("unknown target %q", cfg.Target)
	}
	return run(ctx, cfg, log.With("target", cfg.Target))
}
