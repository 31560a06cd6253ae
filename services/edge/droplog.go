package edge

import (
	"log/slog"
	"sync"
	"time"
)

// dropLog logs drops at most once per reason per interval, with the number
// suppressed since, so that a flood of bad packets cannot flood the log.
type dropLog struct {
	log      *slog.Logger
	msg      string
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
	skipped  map[string]int
}

func newDropLog(log *slog.Logger, interval time.Duration) *dropLog {
	return newRateLog(log, "request dropped", interval)
}

// newRateLog is a dropLog for other events that may come in floods: each
// line says msg.
func newRateLog(log *slog.Logger, msg string, interval time.Duration) *dropLog {
	return &dropLog{log: log, msg: msg, interval: interval, last: map[string]time.Time{}, skipped: map[string]int{}}
}

func (d *dropLog) drop(reason string, attrs ...any) {
	now := time.Now()
	d.mu.Lock()
	if now.Sub(d.last[reason]) < d.interval {
		d.skipped[reason]++
		d.mu.Unlock()
		return
	}
	skipped := d.skipped[reason]
	d.last[reason] = now
	d.skipped[reason] = 0
	d.mu.Unlock()
	d.log.Warn(d.msg, append([]any{"reason", reason, "suppressed_since_last", skipped}, attrs...)...)
}
