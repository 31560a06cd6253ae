package kafkalog

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
)

// The SCRAM-SHA-256 exchange of RFC 7677, section 3.
const (
	rfcNonce       = "rOprNGfwEbeRWgbNEkqO"
	rfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func TestSCRAM(t *testing.T) {
	for _, tt := range []struct {
		name        string
		serverFirst string
		serverFinal string
		// wantErr is a substring of the error, "" for success.
		wantErr string
	}{
		{"RFC 7677 exchange", rfcServerFirst, rfcServerFinal, ""},
		{"server does not know the password", rfcServerFirst, "v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "signature is wrong"},
		{"server reports an error", rfcServerFirst, "e=invalid-proof", `server error "invalid-proof"`},
		{"too few iterations", strings.Replace(rfcServerFirst, "i=4096", "i=1", 1), "", "fewer than 4096"},
		{"nonce not ours", strings.Replace(rfcServerFirst, "r=rOpr", "r=XOpr", 1), "", "nonce"},
		{"nonce not extended", "r=" + rfcNonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "", "nonce"},
		{"mandatory extension", "m=ext," + rfcServerFirst, "", "extension"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newSCRAM(MechanismSCRAMSHA256, sha256.New, "user", "pencil")
			m.nonce = func() (string, error) { return rfcNonce, nil }
			ctx := context.Background()
			sess, first, err := m.Start(ctx)
			if err != nil || string(first) != rfcClientFirst {
				t.Fatalf("Start = %q, %v; want %q", first, err, rfcClientFirst)
			}
			done, final, err := sess.Next(ctx, []byte(tt.serverFirst))
			if tt.serverFinal == "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Next(server-first) = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || done || string(final) != rfcClientFinal {
				t.Fatalf("Next(server-first) = %v, %q, %v; want false, %q", done, final, err, rfcClientFinal)
			}
			done, resp, err := sess.Next(ctx, []byte(tt.serverFinal))
			if tt.wantErr == "" && (err != nil || !done || resp != nil) {
				t.Errorf("Next(server-final) = %v, %q, %v; want done", done, resp, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Next(server-final) error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSCRAMEscapesUsername(t *testing.T) {
	m := newSCRAM(MechanismSCRAMSHA256, sha256.New, "a=b,c", "pw")
	m.nonce = func() (string, error) { return "N", nil }
	_, first, err := m.Start(context.Background())
	if want := "n,,n=a=3Db=2Cc,r=N"; err != nil || string(first) != want {
		t.Errorf("Start = %q, %v; want %q", first, err, want)
	}
}
