package kafkatest

import (
	"net"
	"testing"
	"time"
)

func TestStopAndRestart(t *testing.T) {
	b := Start(t, Options{Topics: []string{"a", "b"}})
	addr := b.Addr()
	if err := dial(addr); err != nil {
		t.Fatalf("dial after Start: %v", err)
	}
	b.Stop()
	if err := dial(addr); err == nil {
		t.Fatal("dial succeeded after Stop")
	}
	b.Stop() // stopping twice is harmless

	b.Restart()
	if b.Addr() != addr {
		t.Errorf("Restart moved the broker from %s to %s", addr, b.Addr())
	}
	if err := dial(b.Addr()); err != nil {
		t.Errorf("dial after Restart: %v", err)
	}
	b.Restart() // restarting a running broker stops it first
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
