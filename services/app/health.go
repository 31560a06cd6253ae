package app

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/journal"
	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/edge"
	"kradius.dev/services/nas/faxback/fbdata"
)

// What the edge's Status-Server answers depend on (services/edge,
// "Status-Server"): whatever each target's decisions need, asked from
// memory where the process knows it, by a background round trip where
// only that tells.

// grpcHealth is the edge target's backends: serving while every
// connection is ready. It keeps them connected until ctx ends, since a
// connection that drops goes idle until the next call, and an edge whose
// NAS have moved away on its unanswered Status-Server makes none: it would
// never see the backend return.
func grpcHealth(ctx context.Context, conns ...*grpc.ClientConn) edge.Health {
	for _, c := range conns {
		go keepConnected(ctx, c)
	}
	return edge.Health{State: func() error {
		for _, c := range conns {
			if s := c.GetState(); s != connectivity.Ready {
				return fmt.Errorf("backend %s is %s", c.Target(), s)
			}
		}
		return nil
	}}
}

// keepConnected reconnects conn whenever it goes idle, until ctx ends or
// conn is closed.
func keepConnected(ctx context.Context, conn *grpc.ClientConn) {
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Idle:
			conn.Connect()
		case connectivity.Shutdown:
			return
		}
		if !conn.WaitForStateChange(ctx, s) {
			return
		}
	}
}

// storeHealth is -target=all's store: Redis answers a PING, in the
// background; the embedded store is a file in this process, serving while
// the process does.
func storeHealth(st fbdata.Store) edge.Health {
	rs, ok := st.(*redisStore)
	if !ok {
		return edge.Health{}
	}
	return edge.Health{Check: func(ctx context.Context) error {
		if err := rs.client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		return nil
	}}
}

// logHealth is the accounting log's: the journal knows from memory whether
// it takes appends, and Kafka's brokers tell only by a round trip.
func logHealth(l acctlog.Appender) edge.Health {
	switch l := l.(type) {
	case *journal.Journal:
		return edge.Health{State: l.Err}
	case *kafkalog.Appender:
		return edge.Health{Check: l.Ping}
	}
	return edge.Health{}
}
