package fbdata

import (
	"errors"
	"reflect"
	"testing"
)

func TestIndexKey(t *testing.T) {
	tests := []struct {
		name  string
		idx   Index
		value string
		want  string // empty: an error wrapping ErrInvalid
	}{
		{"uuid hex", IndexUUID, "0x05A32765C400499390D835289F96988A", "05a32765-c400-4993-90d8-35289f96988a"},
		{"uuid dashed", IndexUUID, "05A32765-C400-4993-90D8-35289F96988A", "05a32765-c400-4993-90d8-35289f96988a"},
		{"uuid bad", IndexUUID, "05A32765", ""},
		{"mac as the port server sends it", IndexMAC, "00908F1D37F0", "00908F1D37F0"},
		{"mac with colons", IndexMAC, "00:90:8f:1d:37:f0", "00908F1D37F0"},
		{"mac with dashes", IndexMAC, "00-90-8F-1D-37-F0", "00908F1D37F0"},
		{"mac with dots", IndexMAC, "0090.8f1d.37f0", "00908F1D37F0"},
		{"mac too long", IndexMAC, "00908F1D37F0AA", ""},
		{"mac not hex", IndexMAC, "00908F1D37FZ", ""},
		{"serial folds case", IndexSerial, "AbC-27482734", "abc-27482734"},
		{"e-mail folds case", IndexSenderEmail, "Fax@Example.ORG", "fax@example.org"},
		{"empty serial", IndexSerial, "", ""},
		{"empty e-mail", IndexSenderEmail, "", ""},
		{"unknown index", Index("name"), "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IndexKey(tt.idx, tt.value)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("IndexKey(%s, %q) = %q, %v; want an ErrInvalid error", tt.idx, tt.value, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("IndexKey(%s, %q) = %q, %v; want %q", tt.idx, tt.value, got, err, tt.want)
			}
		})
	}
}

func TestIndexField(t *testing.T) {
	for idx, want := range map[Index]string{
		IndexUUID: "uuid", IndexMAC: "macAddress", IndexSerial: "serialNumber", IndexSenderEmail: "sndEmail", "name": "",
	} {
		if got := idx.Field(); got != want {
			t.Errorf("Index(%q).Field() = %q, want %q", idx, got, want)
		}
	}
}

func TestIndexEntries(t *testing.T) {
	tests := []struct {
		name string
		a    Account
		want []IndexEntry
	}{
		{"none", Account{Name: "plain"}, nil},
		{"all, in a fixed order", Account{
			Name: "ata", UUID: "0x05A32765C400499390D835289F96988A", MACAddress: "00:90:8f:1d:37:f0",
			SerialNumber: "SN-1", SndEmail: "Fax@Example.org",
		}, []IndexEntry{
			{IndexUUID, "05a32765-c400-4993-90d8-35289f96988a"},
			{IndexMAC, "00908F1D37F0"},
			{IndexSerial, "sn-1"},
			{IndexSenderEmail, "fax@example.org"},
		}},
		{"unparsable values are skipped", Account{Name: "bad", UUID: "x", MACAddress: "y", SerialNumber: "s"},
			[]IndexEntry{{IndexSerial, "s"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.IndexEntries(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("IndexEntries = %+v, want %+v", got, tt.want)
			}
		})
	}
}
