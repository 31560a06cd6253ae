package loadgen

import (
	"testing"
	"time"
)

// BenchmarkEncode is the per-request cost of building a packet from its
// template: what the generator spends per send besides the syscall.
func BenchmarkEncode(b *testing.B) {
	account := Account{"account", "password"}
	login, err := loginTemplate(account)
	if err != nil {
		b.Fatal(err)
	}
	did, err := didTemplate("5551231234")
	if err != nil {
		b.Fatal(err)
	}
	stop, err := acctTemplate(account, "5551231234", true)
	if err != nil {
		b.Fatal(err)
	}
	register, err := registerTemplate(Account{"office1", "s3cret"}, "sip.example", newNonce())
	if err != nil {
		b.Fatal(err)
	}
	invite, err := inviteTemplate("office1", "441234567890")
	if err != nil {
		b.Fatal(err)
	}
	dialogic, err := dialogicTemplate("441234567890", time.Now(), true)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		tpl  *template
	}{{"login", &login}, {"did", &did}, {"acct_stop", &stop}, {"register", &register}, {"invite", &invite}, {"dialogic_stop", &dialogic}} {
		b.Run(bc.name, func(b *testing.B) {
			enc := newEncoder([]byte(testSecret), len(bc.tpl.raw))
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.tpl.raw)))
			var i uint64
			for b.Loop() {
				enc.encode(bc.tpl, byte(i), i)
				i++
			}
		})
	}
}

// BenchmarkVerify is the per-reply cost of checking a Response Authenticator.
func BenchmarkVerify(b *testing.B) {
	request := make([]byte, 20)
	reply := make([]byte, 32)
	reply[0], reply[3] = 2, 32
	b.ReportAllocs()
	for b.Loop() {
		authentic(reply, request, []byte(testSecret))
	}
}
