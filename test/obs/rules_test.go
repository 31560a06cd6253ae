package obs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// alertsDir holds the alerting rules and their promtool unit tests; go test
// runs in this package's directory.
var alertsDir = filepath.Join("..", "..", "deploy", "alerts")

// TestAlertRules checks the rules as Prometheus loads them (syntax, label
// and annotation templates) and runs their unit tests, each alert firing
// and holding back on series written for it.
func TestAlertRules(t *testing.T) {
	promtool := filepath.Join(Assets(t), "promtool")
	for _, args := range [][]string{
		{"check", "rules", "kradius.rules.yaml"},
		{"test", "rules", "kradius.rules.test.yaml"},
	} {
		t.Run(strings.Join(args[:2], "_"), func(t *testing.T) {
			cmd := exec.Command(promtool, args...)
			cmd.Dir = alertsDir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		})
	}
}

// TestEveryAlertTested holds each alert of the rules to at least one test
// case where it fires and one where it must not. The files are read as
// lines, as they are written: no YAML library is worth adding to the module
// for this.
func TestEveryAlertTested(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(alertsDir, "kradius.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(alertsDir, "kradius.rules.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	var alert string
	for _, line := range strings.Split(string(tests), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "alertname:"):
			alert = strings.TrimSpace(strings.TrimPrefix(line, "alertname:"))
		case line == "exp_alerts: []":
			quiet[alert] = true
		case line == "exp_alerts:":
			fires[alert] = true
		}
	}
	var alerts int
	for _, line := range strings.Split(string(rules), "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert:")
		if !ok {
			continue
		}
		alerts++
		name = strings.TrimSpace(name)
		if !fires[name] {
			t.Errorf("%s: no test case where it fires", name)
		}
		if !quiet[name] {
			t.Errorf("%s: no test case where it must not fire", name)
		}
	}
	if alerts == 0 {
		t.Error("no alerts in kradius.rules.yaml")
	}
}
