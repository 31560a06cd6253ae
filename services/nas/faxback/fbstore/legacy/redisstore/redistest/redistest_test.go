package redistest

import (
	"testing"
)

func TestStopAndRestart(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(testing.TB) *Server
		// after is GET's reply once the server has restarted.
		after string
	}{
		{"Start loses data on restart", Start, "$-1"},
		{"StartPersistent keeps it", StartPersistent, "v"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			if reply, err := command(s.Addr(), "SET k v"); err != nil || reply != "+OK" {
				t.Fatalf("SET = %q, %v", reply, err)
			}
			s.Stop()
			if err := ping(s.Addr()); err == nil {
				t.Fatal("PING answered after Stop")
			}
			s.Stop() // stopping twice is harmless

			s.Restart()
			if reply, err := command(s.Addr(), "GET k"); err != nil || reply != tt.after {
				t.Errorf("GET after Restart = %q, %v; want %q", reply, err, tt.after)
			}
		})
	}
}

func TestRestartRunningServer(t *testing.T) {
	s := Start(t)
	addr := s.Addr()
	s.Restart()
	if s.Addr() != addr {
		t.Errorf("Restart moved the server from %s to %s", addr, s.Addr())
	}
	if err := ping(s.Addr()); err != nil {
		t.Errorf("PING after Restart: %v", err)
	}
}
