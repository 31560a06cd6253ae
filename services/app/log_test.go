package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"kradius.dev/services/config"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	NewLogger(config.LogConfig{Format: "json", Level: "warn"}, &buf).Info("hidden")
	NewLogger(config.LogConfig{Format: "json", Level: "warn"}, &buf).Warn("request dropped", "reason", "malformed")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "request dropped" || line["reason"] != "malformed" {
		t.Fatalf("json log: %q (%v)", buf.String(), err)
	}
	buf.Reset()
	NewLogger(config.LogConfig{Format: "text", Level: "debug"}, &buf).Debug("edge listening", "auth", "127.0.0.1:1812")
	if got := buf.String(); !strings.Contains(got, `msg="edge listening" auth=127.0.0.1:1812`) {
		t.Fatalf("text log: %q", got)
	}
}
