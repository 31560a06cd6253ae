package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// benchStore is a store on its own redis-server holding one account with
// every field a FaxBack ATA uses, so that decoding costs what it does in
// service.
func benchStore(b *testing.B) (*redisstore.Store, fbdata.Account) {
	b.Helper()
	srv := redistest.Start(b)
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	b.Cleanup(func() { s.Close() })
	a := fbdata.Account{
		Name: "FaxUser", UUID: "05a32765-c400-4993-90d8-35289f96988a", Type: 4,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		LoginGroup:   "*FAX", RuleGroup: "SALES", Customer: "ACME", RcvEmail: "in@acme.example",
		SndEmail: "out@acme.example", RcvFormat: "pdf", RcvCSID: "+15035550100",
		QueueProfile: `<QPXml Rf="0" Dn="1" Ndn="1" Ea="" Ef="" Ln="en-US" Tz="Pacific*" />`,
		MACAddress:   "00908F1D37F0", SerialNumber: "SN-27482734",
	}
	if err := s.PutAccount(b.Context(), a); err != nil {
		b.Fatalf("PutAccount: %v", err)
	}
	return s, a
}

func BenchmarkGetAccount(b *testing.B) {
	s, a := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetAccount(b.Context(), "faxuser"); err != nil {
			b.Fatalf("GetAccount(%q): %v", a.Name, err)
		}
	}
}

func BenchmarkAccountByUUID(b *testing.B) {
	s, a := benchStore(b)
	// The dashed upper-case form, as a port server in UUID mode may send it.
	value := "05A32765-C400-4993-90D8-35289F96988A"
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.AccountBy(b.Context(), fbdata.IndexUUID, value)
		if err != nil || got.UUID != a.UUID {
			b.Fatalf("AccountBy(uuid, %s) = %q, %v", value, got.UUID, err)
		}
	}
}

// BenchmarkRecordCalledNumberParallel is the cdr consumer applying a batch
// of Stops: many concurrent updates of distinct numbers.
func BenchmarkRecordCalledNumberParallel(b *testing.B) {
	s, _ := benchStore(b)
	b.SetParallelism(128)
	b.ReportAllocs()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			number := strconv.FormatInt(5035550000+next.Add(1)%10000, 10)
			if err := s.RecordCalledNumber(b.Context(), number, fbdata.CallSuccess); err != nil {
				b.Fatal(err)
			}
		}
	})
}
