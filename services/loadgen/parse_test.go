package loadgen

import (
	"reflect"
	"testing"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    []Weight
		wantErr bool
	}{
		{in: "login", want: []Weight{{KindLogin, 1}}},
		{in: "acct", want: []Weight{{KindAcct, 1}}},
		{in: "register", want: []Weight{{KindRegister, 1}}},
		{in: "dialogic", want: []Weight{{KindDialogic, 1}}},
		{in: "register=3,invite", want: []Weight{{KindRegister, 3}, {KindInvite, 1}}},
		{in: "login=80,did=20", want: []Weight{{KindLogin, 80}, {KindDID, 20}}},
		{in: "login=3, did, acct=2", want: []Weight{{KindLogin, 3}, {KindDID, 1}, {KindAcct, 2}}},
		{in: "", wantErr: true},
		{in: "logon", wantErr: true},
		{in: "login=0", wantErr: true},
		{in: "login=-1", wantErr: true},
		{in: "login=x", wantErr: true},
		{in: "login,,did", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseMix(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMix(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFormatMix(t *testing.T) {
	tests := []struct {
		mix  []Weight
		want string
	}{
		{[]Weight{{KindLogin, 1}}, "login"},
		{[]Weight{{KindLogin, 80}, {KindDID, 20}}, "login=80,did=20"},
	}
	for _, tt := range tests {
		if got := FormatMix(tt.mix); got != tt.want {
			t.Errorf("FormatMix(%v) = %q, want %q", tt.mix, got, tt.want)
		}
	}
}

func TestParseAccounts(t *testing.T) {
	tests := []struct {
		in      string
		want    []Account
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "account:password,alice:wonderland", want: []Account{{"account", "password"}, {"alice", "wonderland"}}},
		{in: "bob:a:b", want: []Account{{"bob", "a:b"}}},
		{in: "bob:", want: []Account{{"bob", ""}}},
		{in: "bob", wantErr: true},
		{in: ":pw", wantErr: true},
		{in: "a:b,", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseAccounts(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAccounts(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseDIDs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "5551231234", want: []string{"5551231234"}},
		{in: "1,2", want: []string{"1", "2"}},
		{in: "1,,2", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDIDs(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseDIDs(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPools(t *testing.T) {
	if got, want := PoolAccounts("user", 3, "pw"), []Account{{"user0", "pw"}, {"user1", "pw"}, {"user2", "pw"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("PoolAccounts = %v, want %v", got, want)
	}
	tests := []struct {
		prefix      string
		n           int
		first, last string
	}{
		{"555", 1000, "5550000000", "5550000999"},
		{"1555123", 2, "1555123000", "1555123001"},
		{"55512345678", 12, "5551234567800", "5551234567811"},
	}
	for _, tt := range tests {
		got := PoolDIDs(tt.prefix, tt.n)
		if len(got) != tt.n || got[0] != tt.first || got[tt.n-1] != tt.last {
			t.Errorf("PoolDIDs(%q, %d) = %d numbers %q … %q; want %q … %q", tt.prefix, tt.n, len(got), got[0], got[len(got)-1], tt.first, tt.last)
		}
	}
	if got := PoolDIDs("555", 0); len(got) != 0 {
		t.Errorf("PoolDIDs(555, 0) = %v", got)
	}
}
