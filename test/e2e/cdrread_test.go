package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kradius.dev/services/eventually"
)

// cdrCLI runs kradius cdr with args and returns its output; it fails the
// test unless the exit code is want.
func cdrCLI(t *testing.T, want int, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"cdr"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if code != want {
		t.Fatalf("kradius cdr %s: exit %d, want %d: %v\nstderr: %s\nstdout: %s", strings.Join(args, " "), code, want, err, stderr.String(), out)
	}
	return string(out) + stderr.String()
}

// sessionsOf reads the session ids of JSON-lines CDRs.
func sessionsOf(t *testing.T, out string) []string {
	t.Helper()
	var ids []string
	for line := range strings.Lines(out) {
		var c struct {
			SessionID string `json:"sessionId"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("not a JSON CDR: %q: %v", line, err)
		}
		ids = append(ids, c.SessionID)
	}
	return ids
}

func sorted(ids []string) string {
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// consumed waits until the cdr consumers have committed every accounting
// record appended so far (and so published their CDRs).
func consumed(t *testing.T, broker string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	waitConsumed(ctx, t, cl)
}

func stops(t *testing.T, acct string, sessions ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
	defer cancel()
	for i, s := range sessions {
		if err := nasStop(ctx, acct, s, fmt.Sprintf("5559%06d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCDRReaderOfTheJournal: in -target=all, billing reads the CDR journal
// through the admin endpoint as a named reader, which resumes where it
// stopped; export selects by time and writes CSV.
func TestCDRReaderOfTheJournal(t *testing.T) {
	s := start(t)
	before := time.Now().UTC().Add(-time.Second)
	stops(t, s.addr("acct"), "read-1", "read-2", "read-3")
	s.waitMetric(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, 3)

	// The CDRs of one consumer batch are appended concurrently: compared
	// as sets.
	if got := sessionsOf(t, cdrCLI(t, 0, "tail", "-admin", s.admin, "-reader", "billing")); sorted(got) != "read-1,read-2,read-3" {
		t.Errorf("first tail: %v, want the three CDRs", got)
	}
	if out := cdrCLI(t, 0, "tail", "-admin", s.admin, "-reader", "billing"); out != "" {
		t.Errorf("second tail, nothing new: %q", out)
	}
	stops(t, s.addr("acct"), "read-4")
	s.waitMetric(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, 4)
	if got := sessionsOf(t, cdrCLI(t, 0, "tail", "-admin", s.admin, "-reader", "billing")); strings.Join(got, ",") != "read-4" {
		t.Errorf("third tail: %v, want the new CDR only", got)
	}

	// Another reader has its own position; export keeps the range.
	csv := cdrCLI(t, 0, "export", "-admin", s.admin, "-reader", "audit", "-o", "csv",
		"-from", before.Format(time.RFC3339), "-to", time.Now().UTC().Add(time.Minute).Format(time.RFC3339))
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	var rows []string
	for _, l := range lines[1:] {
		id, rest, _ := strings.Cut(l, ",")
		if !strings.HasPrefix(rest, "faxback,account,demo-portserver,") {
			t.Errorf("export row %q: want the CDR's profile, account and client after its session", l)
		}
		rows = append(rows, id)
	}
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "session_id,profile,account") || sorted(rows) != "read-1,read-2,read-3,read-4" {
		t.Errorf("export:\n%s\nwant a header and the four CDRs", csv)
	}
	if out := cdrCLI(t, 0, "export", "-admin", s.admin, "-reader", "audit2", "-o", "csv", "-from", "2020-01-01T00:00:00Z", "-to", "2020-01-02T00:00:00Z"); strings.TrimSpace(out) != strings.TrimSpace(lines[0]) {
		t.Errorf("export of a range with no CDR: %q, want the header alone", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tail", "-admin", s.admin, "-reader", "ledger"}, "reserved reader name"},
		{[]string{"tail", "-admin", s.admin, "-reader", "no/slash"}, "letters, digits"},
	} {
		if out := cdrCLI(t, 1, tc.args...); !strings.Contains(out, tc.want) {
			t.Errorf("kradius cdr %v: %q, want %q", tc.args, out, tc.want)
		}
	}
	if out := cdrCLI(t, 2, "export", "-admin", s.admin, "-from", "yesterday"); !strings.Contains(out, "RFC 3339") {
		t.Errorf("bad -from: %q", out)
	}
}

// TestCDRReaderOfKafka: distributed, the same commands read kradius.cdr.v1
// read_committed, as the consumer group of the named reader.
func TestCDRReaderOfKafka(t *testing.T) {
	k := startKafkaCluster(t)
	stops(t, k.edge.addr("acct"), "kread-1", "kread-2")
	consumed(t, k.broker.Addr())
	if got := sessionsOf(t, cdrCLI(t, 0, "tail", "-brokers", k.broker.Addr(), "-reader", "billing")); len(got) != 2 {
		t.Errorf("first tail: %v, want the two CDRs", got)
	}
	stops(t, k.edge.addr("acct"), "kread-3")
	consumed(t, k.broker.Addr())
	if got := sessionsOf(t, cdrCLI(t, 0, "tail", "-brokers", k.broker.Addr(), "-reader", "billing")); strings.Join(got, ",") != "kread-3" {
		t.Errorf("second tail: %v, want the new CDR only", got)
	}
}
