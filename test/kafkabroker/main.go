// Command kafkabroker is a single-node Kafka-protocol broker (kfake) for
// tests and labs. With -data every acknowledged record and committed group
// offset is fsynced before the reply, so a stop and restart keeps them;
// -fsync=false leaves the flush to the OS, as Kafka does by default (its
// durability is replication, which a single node does not have).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// options are the command-line flags.
type options struct {
	listen, data, topics             string
	partitions                       int
	autoCreate, fsync                bool
	saslUser, saslPassword, saslMech string
}

func main() {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:9092", "host:port to listen on and advertise to clients (port 0 picks one)")
	flag.StringVar(&o.data, "data", "", "directory that keeps topics, records and group offsets across restarts")
	flag.IntVar(&o.partitions, "partitions", 12, "partitions of auto-created and seeded topics")
	flag.BoolVar(&o.autoCreate, "auto-create", false, "create topics a client's metadata request asks for")
	flag.BoolVar(&o.fsync, "fsync", true, "with -data, fsync each produce and offset commit before acknowledging it (one at a time: kfake is single-threaded)")
	flag.StringVar(&o.topics, "topics", "", "comma-separated topics to create at first start")
	flag.StringVar(&o.saslUser, "sasl-user", "", "require SASL and accept this superuser")
	flag.StringVar(&o.saslPassword, "sasl-password", "", "the SASL user's password")
	flag.StringVar(&o.saslMech, "sasl-mechanism", "SCRAM-SHA-256", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "kafkabroker: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	host, portText, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", o.listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("-listen %q: port: %w", o.listen, err)
	}
	opts := []kfake.Opt{
		// One port makes a one-broker cluster. kfake binds 127.0.0.1;
		// the ListenFn honours the host given, which metadata then
		// advertises, so it must be one clients can reach.
		kfake.Ports(port),
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(address)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
		kfake.DefaultNumPartitions(o.partitions),
	}
	if o.data != "" {
		opts = append(opts, kfake.DataDir(o.data))
		if o.fsync {
			// Without SyncWrites kfake acknowledges before the record
			// reaches the disk, like Kafka's default, and a crash of the
			// machine could lose it.
			opts = append(opts, kfake.SyncWrites())
		}
	}
	if o.autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if o.topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(o.partitions), strings.Split(o.topics, ",")...))
	}
	if o.saslUser != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(o.saslMech, o.saslUser, o.saslPassword))
	}
	cl, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	fmt.Fprintf(os.Stderr, "kafkabroker listening addr=%s\n", cl.ListenAddrs()[0])
	<-sigs
	// Close writes the final state and fsyncs before it returns.
	cl.Close()
	return nil
}
