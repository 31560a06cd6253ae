package recordstest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"kradius.dev/services/store/records"
)

var concurrencyTests = []test{
	{"ConcurrentIncrements", testConcurrentIncrements},
}

// testConcurrentIncrements has workers read, add one and write back the same
// counter: a lost update shows as a total short of the number of increments.
func testConcurrentIncrements(t *testing.T, s records.Store) {
	const workers, rounds = 8, 20
	mustPut(t, s, records.Record{Kind: counters, Key: "n", Value: []byte("0")})
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				if err := s.Update(t.Context(), increment); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update(increment): %v", err)
	}
	assertValue(t, s, counters, "n", strconv.Itoa(workers*rounds))
}

func increment(tx records.Txn) error {
	v, err := tx.Get(counters, "n")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return errors.New("counter is not a number: " + string(v))
	}
	return tx.Put(records.Record{Kind: counters, Key: "n", Value: []byte(strconv.Itoa(n + 1))})
}
