package e2e

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
)

// TestSharedReplyCacheAcrossEdges is a NAS that fails over between two
// edges sharing their reply cache in Redis: the same packet, from the same
// socket, to either edge gets the same bytes back, and an Accounting Stop
// sent to both is appended once.
func TestSharedReplyCacheAcrossEdges(t *testing.T) {
	broker := kafkatest.Start(t, kafkatest.Options{Partitions: 4})
	section := fmt.Sprintf("  log: kafka\n  kafka:\n    brokers: [%s]\n    create_topics: true\n    replication_factor: 1\n    partitions: 4\n", broker.Addr())
	// The budget is far beyond a loopback round trip: a busy machine must
	// not turn the test into one of local-only fallback.
	edgeYAML := "  reply_cache:\n    shared: redis\n    redis_timeout: 5s\n"
	k := &kafkaCluster{cluster: startClusterOf(t, &cluster{accountingYAML: section, edgeYAML: edgeYAML}), broker: broker}
	k.cdr = k.startCDR()
	a, b := k.edge, k.addEdge()
	nas := newAlternatingNAS(t)

	stop := radius.New(radius.CodeAccountingRequest, []byte("testing123"))
	rfc2866.AcctStatusType_Set(stop, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(stop, "shared-session")
	rfc2865.UserName_SetString(stop, "account")
	stop.Add(rfc2865.VendorSpecific_Type, append(radius.Attribute{0, 0, 0x77, 0xe6}, append([]byte{34, 12}, "5557000042"...)...))
	stopPkt := encode(t, stop)
	fromA := nas.exchange(a.addr("acct"), stopPkt)
	// B answers once A's reply is in Redis: until then the claim says in
	// flight, and B drops the retransmit as such.
	fromB := nas.exchange(b.addr("acct"), stopPkt)
	if !bytes.Equal(fromA, fromB) {
		t.Fatalf("Accounting-Response from A %x, from B %x", fromA, fromB)
	}
	b.waitMetric(`kradius_edge_retransmits_total{cache="shared",listener="acct"}`, 1)
	checkExactlyOnce(t, readCDRs(t, broker.Addr(), 1), []string{"shared-session"})

	login := radius.New(radius.CodeAccessRequest, []byte("testing123"))
	rfc2865.UserName_SetString(login, "account")
	rfc2865.UserPassword_SetString(login, "password")
	login.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0x77, 0xe6, 1, 6, 0, 0, 0, 1, 2, 6, 0, 0, 0, 1})
	loginPkt := encode(t, login)
	first := nas.exchange(b.addr("edge"), loginPkt)
	if radius.Code(first[0]) != radius.CodeAccessAccept {
		t.Fatalf("login answered %v", radius.Code(first[0]))
	}
	for _, e := range []*server{a, b, a} {
		if again := nas.exchange(e.addr("edge"), loginPkt); !bytes.Equal(again, first) {
			t.Fatalf("login retransmit answered %x, first %x", again, first)
		}
	}
	a.waitMetric(`kradius_edge_retransmits_total{cache="shared",listener="auth"}`, 1)
	a.waitMetric(`kradius_edge_retransmits_total{cache="local",listener="auth"}`, 1)
	for _, e := range []*server{a, b} {
		if n := e.metric("kradius_edge_shared_reply_cache_local_only_total"); n != 0 {
			t.Errorf("%v requests decided without Redis", n)
		}
	}
}

func encode(t *testing.T, p *radius.Packet) []byte {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// alternatingNAS sends from one UDP socket to whichever edge it is told:
// each edge sees the same source address and port.
type alternatingNAS struct {
	t    *testing.T
	conn *net.UDPConn
}

func newAlternatingNAS(t *testing.T) *alternatingNAS {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &alternatingNAS{t: t, conn: conn}
}

// exchange sends pkt to addr, resending it every 200 ms as a NAS does,
// until addr answers it.
func (n *alternatingNAS) exchange(addr string, pkt []byte) []byte {
	n.t.Helper()
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		n.t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var reply []byte
	eventually.NoError(n.t, "an answer from "+addr, func() error {
		if _, err := n.conn.WriteTo(pkt, to); err != nil {
			return err
		}
		n.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for {
			m, from, err := n.conn.ReadFromUDP(buf)
			if err != nil {
				return err
			}
			if from.String() == to.String() && m >= 20 && buf[1] == pkt[1] {
				reply = bytes.Clone(buf[:m])
				return nil
			}
		}
	})
	return reply
}
