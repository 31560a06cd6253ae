package edge

import (
	"fmt"
	"time"
)

// shedStale drops j, and reports true, when it waited for a worker longer
// than MaxQueueWait. While the workers are held up (a slow backend, a burst
// larger than they drain at once) the queue fills with requests that have
// used up most of their budget and whose NAS will soon retransmit them;
// deciding those would spend the workers on answers that come too late,
// and make every request behind them wait as long.
func (s *Server) shedStale(j job) bool {
	waited := time.Since(j.at)
	if waited <= s.cfg.MaxQueueWait {
		return false
	}
	s.bufs.Put(j.buf)
	s.dropDatagram(j.l, ReasonQueueTimeout, j.src, nil,
		fmt.Errorf("waited %s for a worker, longer than %s", waited.Round(time.Millisecond), s.cfg.MaxQueueWait))
	return true
}
