// Command kafkabroker is a single-node Kafka-protocol broker (kfake) for
// tests and labs. With -data every acknowledged record and committed group
// offset is fsynced before the reply, so a stop and restart keeps them.
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

func main() {
	listen := flag.String("listen", "127.0.0.1:9092", "host:port to listen on (port 0 picks one)")
	data := flag.String("data", "", "directory that keeps topics, records and group offsets across restarts")
	partitions := flag.Int("partitions", 12, "partitions of auto-created and seeded topics")
	autoCreate := flag.Bool("auto-create", false, "create topics a client's metadata request asks for")
	topics := flag.String("topics", "", "comma-separated topics to create at first start")
	saslUser := flag.String("sasl-user", "", "require SASL and accept this superuser")
	saslPassword := flag.String("sasl-password", "", "the SASL user's password")
	saslMechanism := flag.String("sasl-mechanism", "SCRAM-SHA-256", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	flag.Parse()
	if err := run(*listen, *data, *partitions, *autoCreate, *topics, *saslUser, *saslPassword, *saslMechanism); err != nil {
		fmt.Fprintf(os.Stderr, "kafkabroker: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, data string, partitions int, autoCreate bool, topics, saslUser, saslPassword, saslMechanism string) error {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("-listen %q: port: %w", listen, err)
	}
	opts := []kfake.Opt{
		// One port makes a one-broker cluster. kfake always binds
		// 127.0.0.1; the ListenFn honours the host given.
		kfake.Ports(port),
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(address)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
		kfake.DefaultNumPartitions(partitions),
	}
	if data != "" {
		// Without SyncWrites kfake acknowledges before the record reaches
		// the disk, like Kafka's default, and a crash could lose it.
		opts = append(opts, kfake.DataDir(data), kfake.SyncWrites())
	}
	if autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(partitions), strings.Split(topics, ",")...))
	}
	if saslUser != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(saslMechanism, saslUser, saslPassword))
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
