package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFaxBackCommandsWithRadclient runs every FaxBack command against the
// real binary and the demo data, with Debian's radclient.
func TestFaxBackCommandsWithRadclient(t *testing.T) {
	s := start(t)
	cmd := func(c, ctx string) string { return ", FB-Command = " + c + ", FB-Context = " + ctx }
	for _, tc := range []struct {
		name, attrs string
		want        []string
		absent      []string
	}{
		{"Get-Account / Pre-Send-Session", `User-Name = "alice", Acct-Session-Id = "s1", FB-Dial-Number = "5551112345", FB-Transfer-Type = Realtime` + cmd("Get-Account", "Pre-Send-Session"),
			[]string{"Access-Accept", `FB-Customer = "Wonderland Ltd"`, `FB-CDR-Info = "plan=gold"`}, []string{"FB-Call-Ahead-Mode", "FB-Snd-From-Account"}},
		{"Get-Account / Pre-Send-Session, queue transfer", `User-Name = "account", FB-Dial-Number = "5551112345", FB-Transfer-Type = Queue` + cmd("Get-Account", "Pre-Send-Session"),
			[]string{"Access-Accept", "FB-Call-Ahead-Mode = Dynamic"}, nil},
		{"Get-Account / Pre-Send-Session, sending disabled", `User-Name = "bob"` + cmd("Get-Account", "Pre-Send-Session"),
			[]string{"Access-Accept", "FB-Snd-From-Account = False"}, nil},
		{"Get-Account / Pre-Send-Session, unknown", `User-Name = "nobody"` + cmd("Get-Account", "Pre-Send-Session"),
			[]string{"Access-Reject", `Reply-Message = "unknown account \"nobody\""`}, nil},
		{"Get-Account / Pre-Receive-Session, receiving disabled", `User-Name = "BOB"` + cmd("Get-Account", "Pre-Receive-Session"),
			[]string{"Access-Accept", "FB-Rcv-To-Account = False"}, nil},
		{"Get-Account / Pre-Receive-Session, group", `User-Name = "lbj"` + cmd("Get-Account", "Pre-Receive-Session"),
			[]string{"Access-Accept", "FB-Last-Modified-Time = "}, nil},
		{"Get-Account / For-External-Module", `User-Name = "account"` + cmd("Get-Account", "For-External-Module"),
			[]string{"Access-Accept", "FB-Account-Type = Private-Queue-Transfer-Type", `FB-Rcv-Email = "email@domain.com"`, `FB-Snd-Email = "emailaddress@domain.com"`}, nil},
		{"Get-Account-From-DID / Pre-Receive-Session", `User-Name = "5551231234"` + cmd("Get-Account-From-DID", "Pre-Receive-Session"),
			[]string{"Access-Accept", `User-Name = "account"`}, []string{"FB-DID-Enabled"}},
		{"Get-Account-From-DID / Pre-Receive-Session, disabled DID", `User-Name = "5550000000"` + cmd("Get-Account-From-DID", "Pre-Receive-Session"),
			[]string{"Access-Accept", `User-Name = "bob"`, "FB-DID-Enabled = False"}, nil},
		{"Get-Account-From-DID / Pre-Receive-Session, unknown DID", `User-Name = "5559999999"` + cmd("Get-Account-From-DID", "Pre-Receive-Session"),
			[]string{"Access-Reject"}, nil},
		{"Get-Account-From-DID / For-External-Module", `User-Name = "5551231234"` + cmd("Get-Account-From-DID", "For-External-Module"),
			[]string{"Access-Accept", `User-Name = "account"`, `FB-Rcv-Email = "email@domain.com"`}, nil},
		{"Get-Account-From-Sender-Email-Address", `User-Name = "EmailAddress@Domain.com"` + cmd("Get-Account-From-Sender-Email-Address", "For-External-Module"),
			[]string{"Access-Accept", `User-Name = "account"`}, nil},
		{"Get-Account-From-MAC-Address", `User-Name = "00908F1D37F0", FB-Fax-ATA-Type = 0` + cmd("Get-Account-From-MAC-Address", "For-External-Module"),
			[]string{"Access-Accept", `User-Name = "account"`, `FB-Queue-Profile = "<QPXml`}, nil},
		{"Get-Account-From-Serial-Number", `User-Name = "27482734", FB-Fax-ATA-Type = 0` + cmd("Get-Account-From-Serial-Number", "For-External-Module"),
			[]string{"Access-Accept", `User-Name = "account"`}, nil},
		{"Get-Call-Ahead-Mode, unknown number", `User-Name = "5557654321", Acct-Session-Id = "1249336279265000"` + cmd("Get-Call-Ahead-Mode", "Pre-Send-Session"),
			[]string{"Access-Accept", "FB-Call-Ahead-Mode = Dynamic"}, nil},
		{"Get-Call-Ahead-Mode, a verified fax of the demo data", `User-Name = "5552223333"` + cmd("Get-Call-Ahead-Mode", "Pre-Send-Session"),
			[]string{"Access-Accept", "FB-Call-Ahead-Mode = Never"}, nil},
		{"Get-Account / Pre-Send-Session, queue transfer to a voice of the demo data", `User-Name = "account", FB-Dial-Number = "5552224444", FB-Transfer-Type = Queue` + cmd("Get-Account", "Pre-Send-Session"),
			[]string{"Access-Accept", "FB-Call-Ahead-Mode = Dynamic"}, nil},
		{"Get-DID / Pre-Send-Session", `User-Name = "2222", Acct-Session-Id = "b5884d75"` + cmd("Get-DID", "Pre-Send-Session"),
			[]string{"Access-Accept", `User-Name = "alice"`, `FB-Snd-ANI = "5551119999"`, "FB-Line-Num = 1", `FB-Line-Id = "front desk"`}, nil},
		{"Get-DID / Pre-Send-Session, no such line", `User-Name = "3333"` + cmd("Get-DID", "Pre-Send-Session"),
			[]string{"Received Access-Accept"}, []string{"User-Name = "}},
		{"Get-DID / For-External-Module", `User-Name = "2222"` + cmd("Get-DID", "For-External-Module"),
			[]string{"Access-Accept", `User-Name = "alice"`, "FB-Line-Num = 1"}, nil},
		{"Get-DIDs-For-Account", `User-Name = "account"` + cmd("Get-DIDs-For-Account", "For-External-Module"),
			[]string{"Access-Accept", `FB-DID = "5551231234"`}, nil},
		{"Get-Load-Balance-Group-Members", `User-Name = "LBJ", Acct-Session-Id = "3_z4X"` + cmd("Get-Load-Balance-Group-Members", "Pre-Receive-Session"),
			[]string{"Access-Accept", `User-Name = "account"`, `User-Name = "alice"`}, nil},
	} {
		out := radclient(t, s.auth, "testing123", tc.attrs)
		i := strings.Index(out, "Received")
		if i < 0 {
			t.Errorf("%s: no reply:\n%s", tc.name, out)
			continue
		}
		reply := out[i:] // what was sent is echoed first

		for _, w := range tc.want {
			if !strings.Contains(reply, w) {
				t.Errorf("%s: reply lacks %q:\n%s", tc.name, w, out)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(reply, a) {
				t.Errorf("%s: reply has %q:\n%s", tc.name, a, out)
			}
		}
	}
}

// TestImport provisions the running server with `kradius import`, and shows
// that a file with one bad record writes nothing.
func TestImport(t *testing.T) {
	s := start(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("accounts:\n  - {name: carol, password: s3cret, type: 1}\ndids:\n  - {number: \"5554443333\", account: carol}\n"+
		"calledNumbers:\n  - {number: \"5554440000\", faxVerified: true}\n"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("accounts:\n  - {name: dave, password: pw}\n  - {name: this-name-is-too-long, password: pw}\n  - {name: erin, password: pw, queueProfile: '<QPXml'}\n"+
		"calledNumbers:\n  - {number: \"5554440001\", faxVerified: true}\n  - {number: \"dave;5554440002\", voiceError: true}\n"), 0o600)

	out, err := exec.Command(binary, "import", "-admin", s.admin, good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imported 1 accounts, 1 DIDs and 1 called numbers") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out := radclient(t, s.auth, "testing123", `User-Name = "Carol", User-Password = "s3cret", `+login); !strings.Contains(out, "Access-Accept") {
		t.Fatalf("imported account cannot log in:\n%s", out)
	}
	if out := radclient(t, s.auth, "testing123", `User-Name = "5554440000", FB-Command = Get-Call-Ahead-Mode, FB-Context = Pre-Send-Session`); !strings.Contains(out, "FB-Call-Ahead-Mode = Never") {
		t.Fatalf("imported called number not answered:\n%s", out)
	}

	cmd := exec.Command(binary, "import", "-admin", s.admin, bad)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("bad file: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	for _, w := range []string{"nothing imported", `accounts[1] (name "this-name-is-too-long"): name:`, `accounts[2] (name "erin"): queueProfile:`, `calledNumbers[1] (number "dave;5554440002"): number:`} {
		if !strings.Contains(string(out), w) {
			t.Errorf("bad file: output lacks %q:\n%s", w, out)
		}
	}
	if out := radclient(t, s.auth, "testing123", `User-Name = "dave", User-Password = "pw", `+login); !strings.Contains(out, "Access-Reject") {
		t.Errorf("a record of the refused file was written:\n%s", out)
	}
	if out := radclient(t, s.auth, "testing123", `User-Name = "5554440001", FB-Command = Get-Call-Ahead-Mode, FB-Context = Pre-Send-Session`); !strings.Contains(out, "FB-Call-Ahead-Mode = Dynamic") {
		t.Errorf("a called number of the refused file was written:\n%s", out)
	}
}
