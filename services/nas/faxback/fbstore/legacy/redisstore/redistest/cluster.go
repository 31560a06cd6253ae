package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// clusterTimeout bounds creating the cluster and waiting for every node to
// agree that it is whole.
const clusterTimeout = 30 * time.Second

// Cluster is a Redis Cluster of masters only, each a Server.
type Cluster struct {
	nodes []*Server
}

// StartCluster starts n (at least 3, as redis-cli requires) empty cluster
// nodes, spreads the 16384 slots over them and waits until every node reports
// cluster_state:ok and knows all the others. The nodes stop when the test
// ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("redistest: StartCluster(%d): a Redis Cluster needs at least 3 masters", n)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal(notInstalled)
	}
	c := &Cluster{}
	for range n {
		c.nodes = append(c.nodes, start(t, []string{
			"--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes",
			// Relative to --dir, the node's own directory.
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000",
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, c.Addrs()...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := run(ctx, cli, args...); err != nil {
		t.Fatalf("redistest: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, node := range c.nodes {
		if err := waitClusterOK(ctx, node.Addr(), n); err != nil {
			t.Fatalf("redistest: cluster node %s: %v", node.Addr(), err)
		}
	}
	return c
}

// Addrs are the nodes' host:port, in the order they were started.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, node := range c.nodes {
		addrs[i] = node.Addr()
	}
	return addrs
}

// waitClusterOK polls CLUSTER INFO until the node says the cluster is ok and
// knows all n nodes: redis-cli returns once the slots are assigned, but a
// node may still be learning of the others, and a client reading its slot
// map then would be sent to the wrong node.
func waitClusterOK(ctx context.Context, addr string, n int) error {
	want := []string{"cluster_state:ok", fmt.Sprintf("cluster_known_nodes:%d", n), "cluster_slots_ok:16384"}
	var info string
	for {
		var err error
		if info, err = command(addr, "CLUSTER INFO"); err == nil && hasLines(info, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ok within %s; CLUSTER INFO:\n%s", clusterTimeout, info)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func hasLines(text string, want []string) bool {
	lines := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, w := range want {
		if !lines[w] {
			return false
		}
	}
	return true
}

// run runs a command with a deadline and returns its combined output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}
