package edge

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
)

// RadSec serves RADIUS over TLS (RFC 6614) beside the UDP ports. The
// client is the one its certificate names, whatever address it comes
// from: the answer to a source NAT that hides every NAS behind one
// address, as a Kubernetes Service's load balancer may.
type RadSec struct {
	Addr string // TCP address; empty: no RadSec
	// TLS carries the server's certificate and must require and verify
	// the client's (tls.RequireAndVerifyClientCert with ClientCAs): the
	// certificate is all that tells one client from another.
	TLS *tls.Config
	// HandshakeTimeout bounds a connection's TLS handshake, so that
	// connections that never finish one cannot hold their places; default
	// 10s.
	HandshakeTimeout time.Duration
	// MaxConnections bounds the connections open at once, handshakes
	// included; default 1024.
	MaxConnections int
}

// radsecSecret is RFC 6614 §2.3's shared secret: TLS authenticates both
// ends and protects every packet, and the RADIUS secret is this constant.
const radsecSecret = "radsec"

const (
	// radsecMaxPendingReplies is the replies a connection may have waiting for
	// its writer. A peer that leaves more unread is not reading: the
	// connection is closed rather than let it hold the workers' replies.
	radsecMaxPendingReplies = 4096
	// radsecWriteTimeout bounds one write to a peer, for the same reason.
	radsecWriteTimeout = 10 * time.Second
)

// The results of kradius_edge_radsec_connections_total.
const (
	radsecAccepted        = "accepted"
	radsecHandshakeFailed = "handshake_failed"
	radsecUnknownClient   = "unknown_client"
	radsecOverLimit       = "over_limit"
)

// The reasons of kradius_edge_radsec_disconnects_total.
const (
	radsecClosedByPeer  = "closed_by_peer"
	radsecFramingError  = "framing_error"
	radsecReadError     = "read_error"
	radsecWriteError    = "write_error"
	radsecReplyBacklog  = "reply_backlog"
	radsecClientRemoved = "client_removed"
	radsecShutdown      = "shutdown"
)

func (c RadSec) withDefaults() RadSec {
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = 1024
	}
	return c
}

// addRadSec indexes c's RadSec identities. Its RadSec requests are
// decided as a client of its own: the same name, profile and rate limit,
// the RFC's secret, and a reply-cache key of its name rather than of a
// TCP peer, so that a request resent over a new connection (RFC 6613
// §2.6.1: over TCP a client resends only after reconnecting) finds its
// reply. Message-Authenticator is checked when present and never
// required: TLS already guards each packet's integrity.
func (t *ClientTable) addRadSec(c *Client) error {
	if len(c.RadSecIdentities) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(c.Name))
	tc := &Client{
		Name: c.Name, Profile: c.Profile, Secret: []byte(radsecSecret), Policy: PolicyOff,
		Handler: c.Handler, RateLimit: c.RateLimit, RadSecIdentities: c.RadSecIdentities,
		limiter:  c.limiter, // one NAS, one budget, whichever way it comes
		cacheSrc: netip.AddrPortFrom(netip.AddrFrom16([16]byte(sum[:16])), 0),
	}
	for _, id := range c.RadSecIdentities {
		k := identityKey(id)
		if k == "" {
			return fmt.Errorf("client %q: an empty RadSec identity", c.Name)
		}
		if other, dup := t.radsec[k]; dup {
			return fmt.Errorf("client %q: RadSec identity %q is already client %q's", c.Name, id, other.Name)
		}
		t.radsec[k] = tc
	}
	return nil
}

// identityKey compares identities as DNS names compare: without case.
func identityKey(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// radsecClient returns the client a verified certificate names and the
// identity that named it, or nil.
func (t *ClientTable) radsecClient(cert *x509.Certificate) (*Client, string) {
	for _, id := range certIdentities(cert) {
		if c := t.radsec[identityKey(id)]; c != nil {
			return c, id
		}
	}
	return nil, ""
}

// certIdentities are the names a certificate gives its holder, subject
// alternative names first, as RFC 6125 prefers them to the common name.
func certIdentities(cert *x509.Certificate) []string {
	ids := append([]string(nil), cert.DNSNames...)
	for _, u := range cert.URIs {
		ids = append(ids, u.String())
	}
	for _, ip := range cert.IPAddresses {
		ids = append(ids, ip.String())
	}
	if cn := cert.Subject.CommonName; cn != "" {
		ids = append(ids, cn)
	}
	return ids
}

// radsecMetrics are RadSec's own series; its requests count with the UDP
// ports' by the listener their code belongs to.
type radsecMetrics struct {
	connections *prometheus.CounterVec
	disconnects *prometheus.CounterVec
	open        prometheus.Gauge
	unsent      prometheus.Counter
}

func newRadSecMetrics(reg prometheus.Registerer) *radsecMetrics {
	m := &radsecMetrics{
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_radsec_connections_total", Help: "RadSec connections, by result (accepted, handshake_failed, unknown_client, over_limit).",
		}, []string{"result"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_radsec_disconnects_total", Help: "Accepted RadSec connections closed, by reason.",
		}, []string{"reason"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kradius_edge_radsec_open_connections", Help: "RadSec connections open, handshakes included.",
		}),
		unsent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kradius_edge_radsec_unsent_replies_total", Help: "Replies decided after their RadSec connection closed; the reply cache answers the request when it is resent.",
		}),
	}
	reg.MustRegister(m.connections, m.disconnects, m.open, m.unsent)
	for _, r := range []string{radsecAccepted, radsecHandshakeFailed, radsecUnknownClient, radsecOverLimit} {
		m.connections.WithLabelValues(r)
	}
	for _, r := range []string{radsecClosedByPeer, radsecFramingError, radsecReadError, radsecWriteError, radsecReplyBacklog, radsecClientRemoved, radsecShutdown} {
		m.disconnects.WithLabelValues(r)
	}
	return m
}

// radsecServer is the RadSec listener and its connections.
type radsecServer struct {
	cfg     RadSec
	ln      net.Listener // nil until Listen
	metrics *radsecMetrics
	events  *dropLog      // connections refused or dropped, rate-limited
	slots   chan struct{} // one per open connection

	mu       sync.Mutex
	conns    map[*radsecConn]struct{}
	stopping bool

	readers sync.WaitGroup // connections' handshakes and readers
	writers sync.WaitGroup
}

// radsecConn is one client's TLS connection. Its reader queues requests
// for the workers; its writer sends their replies in the order decided.
type radsecConn struct {
	conn     *tls.Conn
	identity string
	key      string // identityKey(identity), the client table's index
	remote   netip.AddrPort
	server   *radsecServer

	mu     sync.Mutex
	closed bool        // out is closed: replies are no longer sent
	out    chan []byte // replies for the writer
	cause  string      // why the writer's side closed it first, if it did
}

func newRadSecServer(cfg RadSec, reg prometheus.Registerer, log *slog.Logger) *radsecServer {
	cfg = cfg.withDefaults()
	return &radsecServer{cfg: cfg, metrics: newRadSecMetrics(reg), events: newRateLog(log, "RadSec connection refused or dropped", time.Second),
		slots: make(chan struct{}, cfg.MaxConnections), conns: map[*radsecConn]struct{}{}}
}

// listen binds the RadSec port.
func (rs *radsecServer) listen() error {
	if t := rs.cfg.TLS; t == nil || t.ClientAuth != tls.RequireAndVerifyClientCert || t.ClientCAs == nil {
		return errors.New("radsec: the TLS configuration must require and verify client certificates against a CA")
	}
	ln, err := net.Listen("tcp", rs.cfg.Addr)
	if err != nil {
		return fmt.Errorf("radsec listener: %w", err)
	}
	rs.ln = ln
	return nil
}

// RadSecAddr is the bound RadSec address, or nil without RadSec.
func (s *Server) RadSecAddr() net.Addr {
	if s.radsec == nil || s.radsec.ln == nil {
		return nil
	}
	return s.radsec.ln.Addr()
}

// acceptRadSec accepts connections until the listener closes.
func (s *Server) acceptRadSec(ctx context.Context) {
	rs := s.radsec
	for {
		conn, err := rs.ln.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Error("accepting a RadSec connection", "err", err)
			time.Sleep(10 * time.Millisecond) // a persistent error (out of descriptors) must not spin
			continue
		}
		select {
		case rs.slots <- struct{}{}:
		default:
			rs.metrics.connections.WithLabelValues(radsecOverLimit).Inc()
			rs.events.drop(radsecOverLimit, "remote", conn.RemoteAddr().String(), "max_connections", rs.cfg.MaxConnections)
			_ = conn.Close()
			continue
		}
		rs.metrics.open.Inc()
		rs.readers.Go(func() {
			defer func() { rs.metrics.open.Dec(); <-rs.slots }()
			s.serveRadSec(ctx, conn)
		})
	}
}

// serveRadSec authenticates one connection and reads its requests until
// it ends.
func (s *Server) serveRadSec(ctx context.Context, raw net.Conn) {
	rs := s.radsec
	remote, _ := netip.ParseAddrPort(raw.RemoteAddr().String())
	tc := tls.Server(raw, rs.cfg.TLS)
	hctx, cancel := context.WithTimeout(ctx, rs.cfg.HandshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		_ = raw.Close()
		if ctx.Err() == nil {
			rs.metrics.connections.WithLabelValues(radsecHandshakeFailed).Inc()
			rs.events.drop(radsecHandshakeFailed, "remote", remote.String(), "err", err)
		}
		return
	}
	cert := tc.ConnectionState().PeerCertificates[0] // verified: the config requires it
	client, identity := s.clients.Load().radsecClient(cert)
	if client == nil {
		_ = tc.Close()
		rs.metrics.connections.WithLabelValues(radsecUnknownClient).Inc()
		rs.events.drop(radsecUnknownClient, "remote", remote.String(), "subject", cert.Subject.String(),
			"identities", strings.Join(certIdentities(cert), ","),
			"err", errors.New("no client has a RadSec identity this certificate carries"))
		return
	}
	c := &radsecConn{conn: tc, identity: identity, key: identityKey(identity), remote: remote, server: rs, out: make(chan []byte, radsecMaxPendingReplies)}
	if !rs.add(c) {
		_ = tc.Close()
		return
	}
	rs.metrics.connections.WithLabelValues(radsecAccepted).Inc()
	s.log.Info("RadSec connection", "client", client.Name, "identity", identity, "remote", remote.String())
	rs.writers.Go(func() { s.writeRadSec(c) })
	reason := s.readRadSec(c)
	rs.metrics.disconnects.WithLabelValues(reason).Inc()
	s.log.Info("RadSec connection closed", "client", client.Name, "remote", remote.String(), "reason", reason)
	if reason != radsecShutdown { // else Serve closes it once the requests read are answered
		c.finish()
	}
}

// add registers c, unless the server is stopping.
func (rs *radsecServer) add(c *radsecConn) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.stopping {
		return false
	}
	rs.conns[c] = struct{}{}
	return true
}

// readRadSec queues c's requests for the workers until the stream ends,
// and says why it did.
func (s *Server) readRadSec(c *radsecConn) string {
	r := bufio.NewReaderSize(c.conn, maxPacket)
	for {
		buf := s.bufs.Get().(*[maxPacket]byte)
		n, err := readFrame(r, buf)
		if err != nil {
			s.bufs.Put(buf)
			switch cause := c.writerCause(); {
			case s.stopping.Load():
				return radsecShutdown
			case cause != "":
				return cause
			case errors.Is(err, io.EOF):
				return radsecClosedByPeer
			case errors.Is(err, errFraming):
				c.server.events.drop(radsecFramingError, "remote", c.remote.String(), "identity", c.identity, "err", err)
				return radsecFramingError
			}
			c.server.events.drop(radsecReadError, "remote", c.remote.String(), "identity", c.identity, "err", err)
			return radsecReadError
		}
		now := time.Now()
		// The table may have been reloaded since the handshake: a client
		// removed from it is refused from its next request on.
		client := s.clients.Load().radsec[c.key]
		if client == nil {
			s.bufs.Put(buf)
			return radsecClientRemoved
		}
		l := s.conns[0]
		if radius.Code(buf[0]) == radius.CodeAccountingRequest {
			l = s.conns[1]
		}
		l.metrics.received.Inc()
		s.received.Add(1)
		if client.limiter != nil && !client.limiter.allow(now) {
			s.bufs.Put(buf)
			s.dropDatagram(l, ReasonRateLimited, c.remote, client, errors.New("over the client's rate limit"))
			continue
		}
		select {
		case l.queue <- job{l: l, buf: buf, n: n, src: c.remote, at: now, stream: c, client: client}:
		default:
			s.bufs.Put(buf)
			s.dropDatagram(l, ReasonOverload, c.remote, client, errors.New("work queue full"))
		}
	}
}

var errFraming = errors.New("RADIUS length out of range; the stream cannot be resynchronised")

// readFrame reads one RADIUS packet from a stream into buf: the header's
// Length says where it ends (RFC 6613 §2.6.4). A Length out of range
// leaves no way to find the next packet.
func readFrame(r io.Reader, buf *[maxPacket]byte) (int, error) {
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint16(buf[2:4]))
	if n < headerLen || n > maxPacket {
		return 0, fmt.Errorf("%w: %d", errFraming, n)
	}
	if _, err := io.ReadFull(r, buf[4:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // a packet cut short is no clean close
		}
		return 0, err
	}
	return n, nil
}

// send hands a reply to c's writer, or counts it unsent once c is closed.
// It never blocks: it runs on workers and the accounting log's callback.
func (c *radsecConn) send(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.server.metrics.unsent.Inc()
		return
	}
	select {
	case c.out <- b:
	default:
		c.server.metrics.unsent.Inc()
		c.server.events.drop(radsecReplyBacklog, "remote", c.remote.String(), "identity", c.identity,
			"err", errors.New("the peer leaves its replies unread"))
		c.abortLocked(radsecReplyBacklog)
	}
}

// abort closes c at once for cause, unsent replies and all.
func (c *radsecConn) abort(cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.abortLocked(cause)
}

func (c *radsecConn) abortLocked(cause string) {
	if c.cause == "" {
		c.cause = cause
	}
	c.closeLocked()
	_ = c.conn.NetConn().Close() // unblocks the reader and the writer
}

// writerCause is why the writer's side closed c, or "".
func (c *radsecConn) writerCause() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// finish lets the writer send the replies queued and close the connection.
func (c *radsecConn) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *radsecConn) closeLocked() {
	if !c.closed {
		c.closed = true
		close(c.out)
	}
}

// writeRadSec sends c's replies, a flush whenever none is waiting, and
// closes the connection once c is finished.
func (s *Server) writeRadSec(c *radsecConn) {
	rs := s.radsec
	defer func() {
		rs.mu.Lock()
		delete(rs.conns, c)
		rs.mu.Unlock()
		_ = c.conn.Close()
	}()
	w := bufio.NewWriterSize(c.conn, 16<<10)
	for b := range c.out {
		_ = c.conn.SetWriteDeadline(time.Now().Add(radsecWriteTimeout))
		_, err := w.Write(b)
		if err == nil && len(c.out) == 0 {
			err = w.Flush()
		}
		if err != nil {
			if c.writerCause() == "" {
				rs.events.drop(radsecWriteError, "remote", c.remote.String(), "identity", c.identity, "err", err)
			}
			c.abort(radsecWriteError)
			for range c.out {
				rs.metrics.unsent.Inc()
			}
			return
		}
	}
}

// stopReading stops reading, once the listener is closed: the requests
// read are still answered, and closeRadSec then closes the connections.
func (rs *radsecServer) stopReading() {
	rs.mu.Lock()
	rs.stopping = true
	for c := range rs.conns {
		_ = c.conn.SetReadDeadline(time.Now())
	}
	rs.mu.Unlock()
	rs.readers.Wait()
}

// closeRadSec sends the replies queued on each connection and closes it.
func (rs *radsecServer) closeRadSec() {
	rs.mu.Lock()
	for c := range rs.conns {
		c.finish()
	}
	rs.mu.Unlock()
	rs.writers.Wait()
}
