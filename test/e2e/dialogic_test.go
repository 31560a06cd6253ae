package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dialogicRadclient sends one request of kind (auth, acct) with radclient
// and the dialogic profile's dictionary directory
// (services/nas/dialogic/radclient), which names vendor 3028's attributes,
// and returns radclient's output.
func dialogicRadclient(t *testing.T, kind, addr, attrs string) string {
	t.Helper()
	path, err := exec.LookPath("radclient")
	if err != nil {
		t.Fatal("radclient not found: run `make test`, which installs freeradius-utils, or apt-get install freeradius-utils")
	}
	dict := filepath.Join(repoRoot, "services/nas/dialogic/radclient")
	cmd := exec.Command(path, "-D", dict, "-d", dict, "-x", "-r", "1", "-t", replyWait, addr, kind, "testing123")
	cmd.Stdin = strings.NewReader(attrs + `, Packet-Src-IP-Address = 127.0.0.5`)
	out, _ := cmd.CombinedOutput() // exit status 1 on Reject or no reply: the output tells
	return string(out)
}

// imgStop is the Accounting-Request Stop of one side of a call, as the IMG
// sends it (seed 003), started at 2027-01-15 08:00 UTC and 61 s long.
func imgStop(session, img, direction, vsas string) string {
	return fmt.Sprintf(`Acct-Status-Type = Stop, Acct-Session-Id = %q, NAS-IP-Address = %s, Calling-Station-Id = "01632960001", Called-Station-Id = "01632960002", Acct-Session-Time = 61, Dialogic-Call-Direction = %q, Dialogic-Start-Type = Call-Start, Dialogic-Start-Time = %d%s`,
		session, img, direction, time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC).Unix(), vsas)
}

// The report of the demo's day, by settlement report.
func settlementReport(t *testing.T, admin string) string {
	t.Helper()
	out, err := exec.Command(binary, "settlement", "report", "-admin", admin, "-from", "2027-01-15T00:00:00Z", "-to", "2027-01-16T00:00:00Z", "-period", "day").CombinedOutput()
	if err != nil {
		t.Fatalf("kradius settlement report: %v\n%s", err, out)
	}
	return string(out)
}

// TestDialogicWithRadclient: the demo's IMG, through radclient with the
// shipped dictionary: carrier authentication by trunk and by address, and
// the seed's three flows settled, once each, in the report and in the CDRs.
func TestDialogicWithRadclient(t *testing.T) {
	s := start(t)
	for _, tc := range []struct{ name, attrs, want string }{
		{"a TDM partner on its trunk", `NAS-IP-Address = 10.0.0.1, User-Name = "01632960001", Calling-Station-Id = "01632960001", Called-Station-Id = "+33123456", Dialogic-trunk-grp-in = "7"`, "Received Access-Accept"},
		{"a trunk id known on another IMG only", `NAS-IP-Address = 10.0.0.2, User-Name = "01632960001", Calling-Station-Id = "01632960001", Called-Station-Id = "+33123456", Dialogic-trunk-grp-in = "7"`, "Received Access-Reject"},
		{"a VoIP partner by its gateway", `NAS-IP-Address = 10.0.0.1, User-Name = "01632960001", Calling-Station-Id = "01632960001", Called-Station-Id = "01632960002", Dialogic-Originate-Address = 198.51.100.9`, "Received Access-Accept"},
		{"outside its allowed prefixes", `NAS-IP-Address = 10.0.0.1, User-Name = "01632960001", Calling-Station-Id = "01632960001", Called-Station-Id = "+33123456", Dialogic-Originate-Address = 198.51.100.9`, "Received Access-Reject"},
		{"an address just outside the CIDR", `NAS-IP-Address = 10.0.0.1, User-Name = "01632960001", Calling-Station-Id = "01632960001", Called-Station-Id = "01632960002", Dialogic-Originate-Address = 198.51.101.0`, "Received Access-Reject"},
	} {
		if out := dialogicRadclient(t, "auth", s.auth, tc.attrs); !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %q in:\n%s", tc.name, tc.want, out)
		}
	}
	stops := []string{
		// Originating side, TDM partner A, then VoIP partner B.
		imgStop("orig-tdm", "10.0.0.1", "O", `, Dialogic-trunk-grp-in = "7", Dialogic-voip-dst-sig-ip-in = "10.0.0.2"`),
		imgStop("orig-voip", "10.0.0.1", "O", `, Dialogic-Originate-Address = 198.51.100.9, Dialogic-voip-dst-sig-ip-in = "10.0.0.2"`),
		// Terminating side, to TDM partner C and VoIP partner D.
		imgStop("term-tdm", "10.0.0.2", "I", `, Dialogic-Originate-Address = 10.0.0.1, Dialogic-trunk-grp-out = "9"`),
		imgStop("term-voip", "10.0.0.2", "I", `, Dialogic-Originate-Address = 10.0.0.1, Dialogic-voip-dst-sig-ip-in = "203.0.113.5"`),
		// Hairpin on IMG 1: partner A to partner D.
		imgStop("hairpin", "10.0.0.1", "I", `, Dialogic-trunk-grp-in = "7", Dialogic-voip-dst-sig-ip-in = "203.0.113.5"`),
		// An unknown trunk: unknown, never dropped.
		imgStop("unknown", "10.0.0.1", "O", `, Dialogic-trunk-grp-in = "70", Dialogic-voip-dst-sig-ip-in = "10.0.0.2"`),
	}
	for _, stop := range append(stops, stops[0]) { // the first Stop resent
		if out := dialogicRadclient(t, "acct", s.addr("acct"), stop); !strings.Contains(out, "Received Accounting-Response") {
			t.Fatalf("Stop: %s", out)
		}
	}
	s.waitMetric(`kradius_cdr_effects_total{effect="settlement",result="applied"}`, float64(len(stops)))
	want := `period_start,originating_carrier,terminating_carrier,calls,seconds
2027-01-15T00:00:00Z,partnerA,partnerD,1,61
2027-01-15T00:00:00Z,partnerA,primary,1,61
2027-01-15T00:00:00Z,partnerB,primary,1,61
2027-01-15T00:00:00Z,primary,partnerC,1,61
2027-01-15T00:00:00Z,primary,partnerD,1,61
2027-01-15T00:00:00Z,unknown,primary,1,61
`
	if got := settlementReport(t, s.admin); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	// The CDRs carry the same records.
	out := cdrCLI(t, 0, "tail", "-admin", s.admin, "-reader", "billing")
	if n := strings.Count(out, `"settlement"`); n != len(stops) {
		t.Errorf("%d CDRs with a settlement record, want %d:\n%s", n, len(stops), out)
	}
	if !strings.Contains(out, `"side":"SIDE_HAIRPIN"`) {
		t.Errorf("no hairpin in the CDRs:\n%s", out)
	}
}

// TestDistributedDialogic: the same Stop sent to two edge processes is
// counted once, by the cdr consumer on Kafka, and reported by the accounts
// target.
func TestDistributedDialogic(t *testing.T) {
	k := startKafkaCluster(t)
	other := k.addEdge()
	stop := imgStop("twice", "10.0.0.1", "O", `, Dialogic-trunk-grp-in = "7", Dialogic-voip-dst-sig-ip-in = "10.0.0.2"`)
	for _, edge := range []*server{k.edge, other} {
		if out := dialogicRadclient(t, "acct", edge.addr("acct"), stop); !strings.Contains(out, "Received Accounting-Response") {
			t.Fatalf("Stop: %s", out)
		}
	}
	other2 := imgStop("once", "10.0.0.2", "I", `, Dialogic-Originate-Address = 10.0.0.1, Dialogic-trunk-grp-out = "9"`)
	if out := dialogicRadclient(t, "acct", other.addr("acct"), other2); !strings.Contains(out, "Received Accounting-Response") {
		t.Fatalf("Stop: %s", out)
	}
	consumed(t, k.broker.Addr())
	want := `period_start,originating_carrier,terminating_carrier,calls,seconds
2027-01-15T00:00:00Z,partnerA,primary,1,61
2027-01-15T00:00:00Z,primary,partnerC,1,61
`
	if got := settlementReport(t, k.accounts.addr("accounts")); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}
