package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
)

// MarkerKey is the key, under the data set's prefix P, that Redis sets once
// the data set is migrated: "P:migrated:v3".
func MarkerKey(prefix string) string { return redisstore.Prefix(prefix) + ":migrated:v3" }

// Redis migrates the data set of today's redisstore under prefix (as
// redisstore.Prefix spells it) into to, unless it was migrated already: it
// copies when one of today's keys P:accounts, P:dids, P:called-numbers or
// P:version exists and MarkerKey(prefix) does not, then sets the marker to
// the time and counts. A second run, or a data set today's code never wrote,
// is a no-op with migrated false. client is left open.
//
// Today's keys stay where they are: the new layout's keys (P:r:, P:k:,
// P:u:, P:m:, P:rr:, P:ver) do not collide with them, and they are the
// backup until an operator, having checked the new store, deletes them
// (with redis-cli -c for a Cluster; P here is the default {kradius}):
//
//	for f in acct did did-by-acct idx refs called; do
//	  redis-cli --scan --pattern "{kradius}:$f:*" | xargs -r redis-cli unlink
//	done
//	redis-cli unlink {kradius}:accounts {kradius}:dids {kradius}:called-numbers {kradius}:version
//
// Servers starting together may each copy; Restore writes records as given,
// so the copies agree. A server writing through today's code during the
// copy is not supported: upgrade every server of the data set together.
func Redis(ctx context.Context, client redis.UniversalClient, prefix string, opts fbdata.Options, to Restorer) (c Counts, migrated bool, err error) {
	p := redisstore.Prefix(prefix)
	marker := MarkerKey(prefix)
	done, err := client.Exists(ctx, marker).Result()
	if err != nil {
		return c, false, fmt.Errorf("migrate redis store %s: %w", p, err)
	}
	if done > 0 {
		return c, false, nil
	}
	// One EXISTS: every key of a data set is in one slot.
	today, err := client.Exists(ctx, p+":accounts", p+":dids", p+":called-numbers", p+":version").Result()
	if err != nil {
		return c, false, fmt.Errorf("migrate redis store %s: %w", p, err)
	}
	if today == 0 {
		return c, false, nil
	}
	// Not closed: Close would close the caller's client.
	old := redisstore.New(client, opts, prefix)
	if c, err = Copy(ctx, old, to, 0); err != nil {
		return c, false, fmt.Errorf("migrate redis store %s: %w", p, err)
	}
	v := fmt.Sprintf("%s accounts=%d dids=%d called-numbers=%d",
		time.Now().UTC().Format(time.RFC3339), c.Accounts, c.DIDs, c.CalledNumbers)
	if err := client.Set(ctx, marker, v, 0).Err(); err != nil {
		return c, false, fmt.Errorf("migrate redis store %s: set %s: %w", p, marker, err)
	}
	return c, true, nil
}
