package migrate

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

func TestRedis(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })

	// A data set today's code never wrote is left alone, and not marked.
	c, migrated, err := Redis(ctx, client, "lab", fbdata.Options{}, failingTarget{})
	if err != nil || migrated || c != (Counts{}) {
		t.Fatalf("empty data set: Redis = %+v, %v, %v", c, migrated, err)
	}

	today := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{LongNames: true}, "lab")
	t.Cleanup(func() { today.Close() })
	if err := today.Apply(ctx, fixtureBatch()); err != nil {
		t.Fatal(err)
	}
	source := dumpStore(t, today)

	// Another data set on the same server is not migrated with it.
	c, migrated, err = Redis(ctx, client, "other", fbdata.Options{}, failingTarget{})
	if err != nil || migrated {
		t.Fatalf("other prefix: Redis = %+v, %v, %v", c, migrated, err)
	}

	// A failed copy sets no marker, so the next start tries again.
	if _, migrated, err := Redis(ctx, client, "lab", fbdata.Options{}, failingTarget{}); err == nil || migrated {
		t.Fatalf("failing target: Redis = %v, %v", migrated, err)
	}
	if n, err := client.Exists(ctx, MarkerKey("lab")).Result(); err != nil || n != 0 {
		t.Fatalf("marker after a failed copy: %d, %v", n, err)
	}

	target := newApplier(t)
	c, migrated, err = Redis(ctx, client, "lab", fbdata.Options{}, target)
	if err != nil || !migrated {
		t.Fatalf("Redis = %v, %v", migrated, err)
	}
	if want := (Counts{Accounts: 6, DIDs: 4, CalledNumbers: 3}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	compare(t, source, target)

	// Today's keys stay as the backup, and the client stays open.
	if got := dumpStore(t, today); len(got.Accounts) != len(source.Accounts) {
		t.Errorf("today's data set holds %d accounts after migration, want %d", len(got.Accounts), len(source.Accounts))
	}
	if n, err := client.Exists(ctx, MarkerKey("lab"), "{lab}:accounts").Result(); err != nil || n != 2 {
		t.Errorf("marker and today's accounts: %d of 2 exist, %v", n, err)
	}

	c, migrated, err = Redis(ctx, client, "lab", fbdata.Options{}, failingTarget{})
	if err != nil || migrated || c != (Counts{}) {
		t.Errorf("second run: Redis = %+v, %v, %v", c, migrated, err)
	}
}
