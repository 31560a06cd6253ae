package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// forwardDropComment marks the harness's own FORWARD rule, so that Down
// deletes that one and no look-alike of someone else's.
const forwardDropComment = "kradius test cluster: nothing is forwarded out of the machine"

// run runs a command and returns its error with its output.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// leftovers says what a cluster that was not torn down (a killed test) has
// left, which a new one would clash with.
func leftovers() error {
	var found []string
	for _, l := range []string{nodeLink, clientLink, bridgeLink} {
		if _, err := os.Stat("/sys/class/net/" + l); err == nil {
			found = append(found, "link "+l)
		}
	}
	for _, ns := range []string{sinkNetns, clientNetns} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			found = append(found, "netns "+ns)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("a test cluster was not torn down (%s): delete them (ip link del %s; ip link del %s; ip link del %s; ip netns del %s; ip netns del %s), stop its processes, and remove the KUBE- iptables chains",
		strings.Join(found, ", "), nodeLink, clientLink, bridgeLink, sinkNetns, clientNetns)
}

// setupNetwork makes the sink and client namespaces, the node's veth, the
// routes into the sink and the FORWARD drop; each step's undo goes on the
// Down stack as it succeeds.
func (c *Cluster) setupNetwork() error {
	// kube-proxy's and the kubelet's chains; their removal runs after both
	// have stopped, being pushed before they start.
	c.onDown("remove the KUBE- iptables chains", func() error {
		return errors.Join(removeKubeChains("iptables"), removeKubeChains("ip6tables"))
	})
	c.onDown("forget the cluster's conntrack entries", forgetConntrack)

	steps := []struct {
		do   [][]string
		undo []string
	}{
		{[][]string{{"ip", "netns", "add", sinkNetns}}, []string{"ip", "netns", "del", sinkNetns}},
		{[][]string{
			{"ip", "link", "add", nodeLink, "type", "veth", "peer", "name", "krsink0", "netns", sinkNetns},
		}, []string{"ip", "link", "del", nodeLink}},
		{[][]string{
			{"ip", "-n", sinkNetns, "addr", "add", sinkAddr + nodePrefix, "dev", "krsink0"},
			{"ip", "-n", sinkNetns, "link", "set", "krsink0", "up"},
			{"ip", "addr", "add", NodeIPAddr + nodePrefix, "dev", nodeLink},
			{"ip", "link", "set", nodeLink, "up"},
			// The routes go with the link.
			{"ip", "route", "add", serviceCIDR, "via", sinkAddr, "dev", nodeLink},
			{"ip", "route", "add", podCIDR, "via", sinkAddr, "dev", nodeLink},
		}, nil},
		{[][]string{{"ip", "netns", "add", clientNetns}}, []string{"ip", "netns", "del", clientNetns}},
		{[][]string{
			{"ip", "link", "add", clientLink, "type", "veth", "peer", "name", "krcli1", "netns", clientNetns},
		}, []string{"ip", "link", "del", clientLink}},
		{[][]string{
			{"ip", "addr", "add", clientHostAddr + nodePrefix, "dev", clientLink},
			{"ip", "link", "set", clientLink, "up"},
			{"ip", "-n", clientNetns, "link", "set", "lo", "up"},
			{"ip", "-n", clientNetns, "addr", "add", clientAddr + nodePrefix, "dev", "krcli1"},
			{"ip", "-n", clientNetns, "link", "set", "krcli1", "up"},
			// The node, and nothing else, is reachable from the client.
			{"ip", "-n", clientNetns, "route", "add", NodeIPAddr + "/32", "via", clientHostAddr},
		}, nil},
	}
	for _, s := range steps {
		for _, argv := range s.do {
			if err := run(argv[0], argv[1:]...); err != nil {
				return err
			}
		}
		if s.undo != nil {
			undo := s.undo
			c.onDown(strings.Join(undo, " "), func() error { return run(undo[0], undo[1:]...) })
		}
	}

	for _, dev := range c.uplinks {
		rule := []string{"FORWARD", "-o", dev, "-m", "comment", "--comment", forwardDropComment, "-j", "DROP"}
		if err := run("iptables", append([]string{"-w", "-I"}, rule...)...); err != nil {
			return err
		}
		c.onDown("iptables -D FORWARD -o "+dev+" -j DROP", func() error {
			return run("iptables", append([]string{"-w", "-D"}, rule...)...)
		})
	}
	return nil
}

// uplinks are the devices of the machine's IPv4 default routes. IPv6 is
// not forwarded at all (net.ipv6.conf.all.forwarding stays as found, 0
// here).
func uplinks() ([]string, error) {
	out, err := exec.Command("ip", "-4", "route", "show", "default").Output()
	if err != nil {
		return nil, fmt.Errorf("ip route show default: %w", err)
	}
	var devs []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "dev" {
				devs = append(devs, f[i+1])
			}
		}
	}
	return devs, nil
}

// removeKubeChains removes every KUBE- chain, and the rules of the built-in
// chains that jump to one, from every table: one iptables-restore
// --noflush transaction per table, as kube-proxy itself writes them.
func removeKubeChains(family string) error {
	out, err := exec.Command(family + "-save").Output()
	if err != nil {
		return fmt.Errorf("%s-save: %w", family, err)
	}
	var script strings.Builder
	var table string
	var deletes, chains []string
	flush := func() {
		if table == "" || len(deletes)+len(chains) == 0 {
			return
		}
		fmt.Fprintf(&script, "*%s\n", table)
		for _, d := range deletes {
			script.WriteString(d + "\n")
		}
		for _, ch := range chains {
			fmt.Fprintf(&script, "-F %s\n", ch)
		}
		for _, ch := range chains {
			fmt.Fprintf(&script, "-X %s\n", ch)
		}
		script.WriteString("COMMIT\n")
	}
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			flush()
			table, deletes, chains = line[1:], nil, nil
		case strings.HasPrefix(line, ":KUBE-"):
			chains = append(chains, strings.Fields(line[1:])[0])
		case strings.HasPrefix(line, "-A ") && !strings.HasPrefix(line, "-A KUBE-") &&
			(strings.Contains(line, " -j KUBE-") || strings.Contains(line, " -g KUBE-")):
			deletes = append(deletes, "-D "+line[3:])
		}
	}
	flush()
	if script.Len() == 0 {
		return nil
	}
	cmd := exec.Command(family+"-restore", "-w", "--noflush")
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s-restore: %v: %s\n%s", family, err, out, script.String())
	}
	return nil
}

// forgetConntrack deletes the flows of the cluster's addresses, which would
// otherwise linger until they time out. conntrack exits 1 when there were
// none.
func forgetConntrack() error {
	_, pods, _ := net.ParseCIDR(podCIDR)
	_, services, _ := net.ParseCIDR(serviceCIDR)
	for _, args := range [][]string{
		{"-D", "-s", clientAddr},
		{"-D", "-d", clientAddr},
		{"-D", "-s", pods.IP.String(), "--mask-src", net.IP(pods.Mask).String()},
		{"-D", "-d", services.IP.String(), "--mask-dst", net.IP(services.Mask).String()},
		{"-D", "-d", NodeIPAddr},
	} {
		_ = exec.Command("conntrack", args...).Run()
	}
	return nil
}
