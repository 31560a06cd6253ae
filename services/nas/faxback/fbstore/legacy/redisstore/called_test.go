package redisstore_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// Concurrent Stops share transactions, and two consumers (two stores, as two
// cdr replicas) race for the same numbers: every result must still count.
func TestRecordCalledNumberConcurrent(t *testing.T) {
	srv := redistest.Start(t)
	prefix := nextPrefix()
	a := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, prefix)
	defer a.Close()
	b := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, prefix)
	defer b.Close()
	const numbers, rounds = 40, 5
	var wg sync.WaitGroup
	errs := make(chan error, numbers*rounds*2)
	for range rounds {
		for n := range numbers {
			number := fmt.Sprintf("50355501%02d", n)
			wg.Go(func() { errs <- a.RecordCalledNumber(t.Context(), number, fbdata.CallSuccess) })
			wg.Go(func() { errs <- b.RecordCalledNumber(t.Context(), number, fbdata.CallVoiceError) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for n := range numbers {
		number := fmt.Sprintf("50355501%02d", n)
		c, err := a.GetCalledNumber(t.Context(), number)
		if err != nil || !c.FaxVerified || !c.VoiceError {
			t.Errorf("%s = %+v, %v: want both the fax success and the voice error recorded", number, c, err)
		}
	}
}

// A number whose stored record is corrupt fails its own updates, not those
// that shared its transaction.
func TestRecordCalledNumberCorruptRecordFailsAlone(t *testing.T) {
	srv := redistest.Start(t)
	prefix := nextPrefix()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	s := redisstore.New(client, fbdata.Options{}, prefix)
	defer s.Close()
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	if err := raw.Set(t.Context(), prefix+":called:5550000", "{not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		number := fmt.Sprintf("55510%02d", i)
		if i%10 == 0 {
			number = "5550000"
		}
		wg.Go(func() { errs[i] = s.RecordCalledNumber(t.Context(), number, fbdata.CallSuccess) })
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 0) != (err != nil) {
			t.Errorf("update %d: err = %v (the corrupt number is every tenth)", i, err)
		}
	}
	if c, err := s.GetCalledNumber(t.Context(), "5551001"); err != nil || !c.FaxVerified {
		t.Errorf("a good number beside the corrupt one: %+v, %v", c, err)
	}
}

// Concurrent updates share transactions: far fewer EXECs than updates.
func TestRecordCalledNumberShareTransactions(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	s := redisstore.New(client, fbdata.Options{}, nextPrefix())
	defer s.Close()
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	execs := func() int {
		info, err := raw.Info(t.Context(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		var calls int
		for line := range strings.Lines(info) {
			if rest, ok := strings.CutPrefix(line, "cmdstat_exec:calls="); ok {
				fmt.Sscanf(rest, "%d", &calls)
			}
		}
		return calls
	}
	before := execs()
	const updates = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range updates {
		wg.Go(func() {
			<-start
			if err := s.RecordCalledNumber(t.Context(), fmt.Sprintf("5036%06d", i), fbdata.CallSuccess); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := execs() - before; n == 0 || n > updates/4 {
		t.Errorf("%d EXECs for %d concurrent updates: they did not share transactions", n, updates)
	} else {
		t.Logf("%d EXECs for %d concurrent updates", n, updates)
	}
}
