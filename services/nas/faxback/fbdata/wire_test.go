package fbdata

import "testing"

func TestWireValues(t *testing.T) {
	tests := []struct {
		name string
		got  uint32
		want uint32
	}{
		{"rcvFormat empty", Account{}.RcvFormatValue(), 0},
		{"rcvFormat tiff", Account{RcvFormat: "tiff"}.RcvFormatValue(), 0},
		{"rcvFormat pdf", Account{RcvFormat: "pdf"}.RcvFormatValue(), 1},
		{"rcvFailoverMode empty", Account{}.RcvFailoverModeValue(), 0},
		{"rcvFailoverMode as-needed", Account{RcvFailoverMode: "as-needed"}.RcvFailoverModeValue(), 0},
		{"rcvFailoverMode always", Account{RcvFailoverMode: "always"}.RcvFailoverModeValue(), 1},
		{"rcvFailoverMode group member", Account{RcvFailoverMode: "load-balance-group-member"}.RcvFailoverModeValue(), 2},
		{"callAheadMode empty is dynamic", Account{}.CallAheadModeValue(), 1},
		{"callAheadMode never", Account{CallAheadMode: "never"}.CallAheadModeValue(), 0},
		{"callAheadMode dynamic", Account{CallAheadMode: "dynamic"}.CallAheadModeValue(), 1},
		{"callAheadMode always", Account{CallAheadMode: "always"}.CallAheadModeValue(), 2},
		{"callAheadMode unknown is the default", Account{CallAheadMode: "sometimes"}.CallAheadModeValue(), 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestUploadLogsValue(t *testing.T) {
	tests := []struct {
		word   string
		want   uint32
		wantOK bool
	}{
		{"", 0, false},
		{"never", 0, true},
		{"after-errors", 1, true},
		{"after-all-sessions", 2, true},
	}
	for _, tt := range tests {
		got, ok := Account{UploadLogs: tt.word}.UploadLogsValue()
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("UploadLogsValue(%q) = %d, %t; want %d, %t", tt.word, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestIsGroup(t *testing.T) {
	for typ, want := range map[uint32]bool{0: false, 1: false, 4: false, 5: false, 8: true, 9: true, 10: true} {
		if got := (Account{Type: typ}).IsGroup(); got != want {
			t.Errorf("type %d: IsGroup() = %t, want %t", typ, got, want)
		}
	}
}
