package fbstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbdata/fbdatatest"
	"kradius.dev/services/nas/faxback/fbstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	recembedded "kradius.dev/services/store/records/embedded"
	redisrecords "kradius.dev/services/store/records/redis"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; no test here wants them.
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestConformanceEmbedded(t *testing.T) {
	open := func(t *testing.T, o fbdata.Options) fbdata.Store {
		rs, err := recembedded.Open(filepath.Join(t.TempDir(), "records.db"), fbstore.Kinds)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return fbstore.New(rs, o)
	}
	fbdatatest.Run(t, open)
	fbdatatest.RunChanges(t, open)
}

// TestConformanceEmbeddedCached: the read caches answer exactly what the
// backend holds, through every write the suite makes.
func TestConformanceEmbeddedCached(t *testing.T) {
	fbdatatest.Run(t, func(t *testing.T, o fbdata.Options) fbdata.Store {
		rs, err := recembedded.Open(filepath.Join(t.TempDir(), "records.db"), fbstore.Kinds)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return fbstore.New(rs, o).CacheReads()
	})
}

// prefixes hands every store a data set of its own on the shared server.
var prefixes atomic.Int64

func TestConformanceRedis(t *testing.T) {
	srv := redistest.Start(t)
	open := func(t *testing.T, o fbdata.Options) fbdata.Store {
		prefix := fmt.Sprintf("{fbstore-%d}", prefixes.Add(1))
		rs, err := redisrecords.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), prefix, fbstore.Kinds)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return fbstore.New(rs, o)
	}
	fbdatatest.Run(t, open)
	fbdatatest.RunChanges(t, open)
}
