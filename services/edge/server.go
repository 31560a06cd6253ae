// Package edge is kradius's RADIUS front: it finds the NAS client by source
// address (UDP) or by certificate (RadSec, radsec.go), checks the
// authenticators, answers retransmits from a reply cache, and hands each
// new request to the NAS profile of its client. It answers Status-Server
// probes itself, while it can serve.
package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"layeh.com/radius"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/nas"
	"kradius.dev/services/tracing"
)

const (
	listenerAuth = "auth"
	listenerAcct = "acct"
)

// Config sizes the edge. The zero value of a field takes the default below.
type Config struct {
	AuthAddr string // default ":1812"
	AcctAddr string // default ":1813"
	// Workers and AcctWorkers are the decisions each port makes at once.
	// Each port has its own workers and queue. Access decisions answered
	// from memory are best made by few, since every worker with a request
	// is a runnable goroutine and a long run queue is served out of order;
	// Workers defaults to 64, for decisions that wait on other services.
	//
	// AcctWorkers defaults to one per CPU when the log reports durability
	// by callback (acctlog.AsyncAppender: the journal, Kafka), since a
	// worker then only encodes the record and never waits; more workers
	// only queued behind each other and the log's answers, for fewer
	// records a second and a longer p99 (measured under make bench:
	// docs/performance.md, "Accounting workers"). With a log whose Append
	// blocks, or with SharedReplies, whose claim each worker waits for, it
	// defaults to 64.
	Workers        int
	AcctWorkers    int
	QueueSize      int           // requests waiting for a worker, per port, default 4096
	RequestTimeout time.Duration // budget for one decision, from receipt, default 1s
	MaxQueueWait   time.Duration // beyond it a request still waiting for a worker is dropped (shed.go), default RequestTimeout/2
	ReplyTTL       time.Duration // retransmit window, default 30s
	ReplyCacheSize int           // replies kept for retransmits, default 100000
	// SharedReplies, with a Client, puts a reply cache the edges share
	// behind the local one (sharedreplies.go).
	SharedReplies SharedReplies
	// RadSec, with an Addr, serves RADIUS over TLS beside the UDP ports
	// (radsec.go).
	RadSec RadSec
	// Tracer, when set, gets a span for SampleRatio of the requests
	// (package tracing); the others carry a context that says they are
	// not sampled, so that the backends start no trace of their own.
	Tracer      trace.Tracer
	SampleRatio float64
	// Log is the accounting log. Without one, accounting is dropped
	// (accounting_unavailable): a record not durably stored is never
	// acknowledged.
	Log acctlog.Appender
	// AuthHealth and AcctHealth are what each port's decisions depend on:
	// a Status-Server is answered only while they can serve (status.go).
	AuthHealth, AcctHealth Health
	// HealthInterval is how often a Health's Check runs, default 1s.
	HealthInterval time.Duration
	// FailureMemory is how long a request that failed for a backend or
	// the accounting log keeps its port's Status-Server unanswered, unless
	// a request succeeds after it; default 10s.
	FailureMemory time.Duration
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.AuthAddr == "" {
		c.AuthAddr = ":1812"
	}
	if c.AcctAddr == "" {
		c.AcctAddr = ":1813"
	}
	def(&c.Workers, 64)
	// A worker that first claims the request in the shared reply cache
	// waits for Redis: then the many that a blocking log needs.
	if _, async := c.Log.(acctlog.AsyncAppender); async && c.SharedReplies.Client == nil {
		def(&c.AcctWorkers, runtime.GOMAXPROCS(0))
	}
	def(&c.AcctWorkers, 64)
	def(&c.QueueSize, 4096)
	def(&c.ReplyCacheSize, 100000)
	defDur(&c.RequestTimeout, time.Second)
	defDur(&c.MaxQueueWait, c.RequestTimeout/2)
	defDur(&c.ReplyTTL, 30*time.Second)
	defDur(&c.HealthInterval, time.Second)
	defDur(&c.FailureMemory, 10*time.Second)
	defDur(&c.SharedReplies.Timeout, 20*time.Millisecond)
	defDur(&c.SharedReplies.Pause, time.Second)
	return c
}

// Server is one edge process.
type Server struct {
	cfg      Config
	tracer   trace.Tracer // nil: no spans
	sampler  sampler
	clients  atomic.Pointer[ClientTable]
	log      *slog.Logger
	drops    *dropLog
	metrics  *metrics
	cache    *replyCache
	shared   *sharedReplies // nil: the local cache alone
	radsec   *radsecServer  // nil: no RadSec
	budget   *sharedDeadlines
	bufs     sync.Pool // *[maxPacket]byte, one per datagram in flight
	records  sync.Pool // *[]byte, an accounting record being encoded
	conns    []*listener
	stopping atomic.Bool
	received atomic.Int64 // datagrams read, both ports
	// pending counts accounting records whose outcome the log has yet to
	// report: Serve answers them before it closes the sockets.
	pending sync.WaitGroup
}

type listener struct {
	name    string
	code    radius.Code // the request code this port serves, beside Status-Server
	conn    *net.UDPConn
	metrics listenerMetrics
	queue   chan job
	workers int
	health  *portHealth
}

type job struct {
	l   *listener
	buf *[maxPacket]byte
	n   int
	src netip.AddrPort
	at  time.Time
	// stream is the RadSec connection the request came on, and client
	// the client its certificate names; both nil for a datagram.
	stream *radsecConn
	client *Client
}

// New builds a server.
func New(cfg Config, clients *ClientTable, reg prometheus.Registerer, log *slog.Logger) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		tracer:  cfg.Tracer,
		sampler: newSampler(cfg.SampleRatio),
		log:     log,
		drops:   newDropLog(log, time.Second),
		cache:   newReplyCache(cfg.ReplyTTL, cfg.ReplyCacheSize),
		budget:  newSharedDeadlines(cfg.RequestTimeout),
	}
	s.bufs.New = func() any { return new([maxPacket]byte) }
	s.records.New = func() any { return new([]byte) }
	s.clients.Store(clients)
	s.metrics = newMetrics(reg, func() float64 {
		n := 0
		for _, l := range s.conns {
			n += len(l.queue)
		}
		return float64(n)
	})
	if cfg.SharedReplies.Client != nil {
		s.shared = newSharedReplies(cfg.SharedReplies, cfg.ReplyTTL, cfg.RequestTimeout, s.metrics, log)
	}
	if cfg.RadSec.Addr != "" {
		s.radsec = newRadSecServer(cfg.RadSec, reg, log)
	}
	return s
}

// SetClients swaps the client table; requests in progress keep the old one.
// A client that was seen to send Message-Authenticator (policy auto) keeps
// requiring it under the new table, so a reload opens no downgrade window.
func (s *Server) SetClients(t *ClientTable) {
	if old := s.clients.Load(); old != nil {
		seen := map[string]bool{}
		for _, c := range old.all() {
			if c.sawMessageAuthenticator.Load() {
				seen[c.Name] = true
			}
		}
		for _, c := range t.all() {
			if seen[c.Name] {
				c.sawMessageAuthenticator.Store(true)
			}
		}
	}
	s.clients.Store(t)
}

// Listen binds the auth and accounting sockets, and RadSec's.
func (s *Server) Listen() error {
	for _, l := range []struct {
		name, addr string
		code       radius.Code
		workers    int
		health     Health
	}{
		{listenerAuth, s.cfg.AuthAddr, radius.CodeAccessRequest, s.cfg.Workers, s.cfg.AuthHealth},
		{listenerAcct, s.cfg.AcctAddr, radius.CodeAccountingRequest, s.cfg.AcctWorkers, s.cfg.AcctHealth},
	} {
		addr, err := net.ResolveUDPAddr("udp", l.addr)
		if err != nil {
			return fmt.Errorf("%s listener %q: %w", l.name, l.addr, err)
		}
		conn, err := net.ListenUDP("udp", addr)
		if err != nil {
			s.closeConns()
			return fmt.Errorf("%s listener: %w", l.name, err)
		}
		s.conns = append(s.conns, &listener{name: l.name, code: l.code, conn: conn, metrics: s.metrics.forListener(l.name),
			queue: make(chan job, s.cfg.QueueSize), workers: l.workers, health: newPortHealth(l.health, s.cfg.FailureMemory)})
	}
	if s.radsec != nil {
		if err := s.radsec.listen(); err != nil {
			s.closeConns()
			return err
		}
	}
	return nil
}

// Received is how many datagrams the edge has read, on both ports: its load,
// for work that should yield to it (the in-process cdr consumer).
func (s *Server) Received() int64 { return s.received.Load() }

// AuthAddr and AcctAddr return the bound addresses, once Listen has run.
func (s *Server) AuthAddr() net.Addr { return s.conns[0].conn.LocalAddr() }
func (s *Server) AcctAddr() net.Addr { return s.conns[1].conn.LocalAddr() }

// Serve answers requests until ctx ends, then stops reading, lets the requests
// already received finish and be answered, and closes the sockets.
func (s *Server) Serve(ctx context.Context) error {
	if len(s.conns) == 0 {
		return errors.New("edge: Serve before Listen")
	}
	var readers, workers, checks, accepting sync.WaitGroup
	if s.radsec != nil {
		accepting.Go(func() { s.acceptRadSec(ctx) })
	}
	for _, l := range s.conns {
		if l.health.Check != nil {
			checks.Go(func() { l.health.watch(ctx, s.cfg.HealthInterval, s.cfg.RequestTimeout) })
		}
		for range l.workers {
			workers.Go(func() {
				for j := range l.queue {
					if !s.shedStale(j) {
						s.handle(j)
					}
				}
			})
		}
		readers.Go(func() { s.read(l) })
	}
	s.log.Info("edge listening", "auth", s.AuthAddr().String(), "acct", s.AcctAddr().String(), "radsec", addrString(s.RadSecAddr()),
		"workers", s.cfg.Workers, "acct_workers", s.cfg.AcctWorkers)

	<-ctx.Done()
	s.stopping.Store(true)
	for _, l := range s.conns {
		_ = l.conn.SetReadDeadline(time.Now()) // unblocks the readers, keeps the socket for replies
	}
	if s.radsec != nil {
		_ = s.radsec.ln.Close()
		accepting.Wait()
		s.radsec.stopReading()
	}
	readers.Wait()
	for _, l := range s.conns {
		close(l.queue)
	}
	workers.Wait()
	s.pending.Wait()
	if s.shared != nil {
		s.shared.wait()
	}
	if s.radsec != nil {
		s.radsec.closeRadSec()
	}
	checks.Wait()
	s.closeConns()
	s.log.Info("edge stopped")
	return nil
}

func (s *Server) closeConns() {
	for _, l := range s.conns {
		_ = l.conn.Close()
	}
	if s.radsec != nil && s.radsec.ln != nil {
		_ = s.radsec.ln.Close()
	}
}

// addrString is a's address, or "" for none.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (s *Server) read(l *listener) {
	for {
		buf := s.bufs.Get().(*[maxPacket]byte)
		n, src, err := l.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			s.bufs.Put(buf)
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Error("reading datagram", "listener", l.name, "err", err)
			time.Sleep(10 * time.Millisecond) // a persistent socket error must not spin
			continue
		}
		l.metrics.received.Inc()
		s.received.Add(1)
		now := time.Now()
		if c := s.overLimit(src, now); c != nil {
			s.bufs.Put(buf)
			s.dropDatagram(l, ReasonRateLimited, src, c, errors.New("over the client's rate limit"))
			continue
		}
		select {
		case l.queue <- job{l: l, buf: buf, n: n, src: src, at: now}:
		default:
			s.bufs.Put(buf)
			s.dropDatagram(l, ReasonOverload, src, nil, errors.New("work queue full"))
		}
	}
}

// overLimit returns the client of src when its rate limit sheds a request
// received at now, and nil otherwise: it is decided as the datagram is
// read, so that a flooding NAS's excess never takes a place in the queue
// the other clients' requests share.
func (s *Server) overLimit(src netip.AddrPort, now time.Time) *Client {
	t := s.clients.Load()
	if !t.limited {
		return nil
	}
	c := t.Lookup(src.Addr())
	if c == nil || c.limiter == nil || c.limiter.allow(now) {
		return nil
	}
	return c
}

// request is one datagram's way through the edge, from its client's
// lookup to the reply or the drop that ends it.
type request struct {
	l      *listener
	j      job
	code   radius.Code // the port's, or Status-Server once the datagram says so
	client *Client     // nil until found
	key    replyKey
	// sharedKey is the request's key in the shared reply cache when this
	// edge holds its claim there, which its outcome settles; "" otherwise.
	sharedKey string
	// kind is what the profile says was asked (nas.Request.Kind), or
	// status-server.
	kind string
	// span is the request's trace span; nil when tracing is off or the
	// request is not sampled, when unsampled says so to the backends.
	span      trace.Span
	unsampled trace.SpanContext
}

// handle takes one datagram from bytes to reply.
func (s *Server) handle(j job) {
	defer s.bufs.Put(j.buf)
	r := request{l: j.l, j: j, code: j.l.code}
	if s.tracer != nil {
		if s.sampler.keep() {
			_, r.span = s.tracer.Start(tracing.Sampled(context.Background()), spanNames[j.l.code],
				trace.WithTimestamp(j.at), trace.WithSpanKind(trace.SpanKindServer))
		} else {
			r.unsampled = s.sampler.unsampled()
		}
	}
	l := j.l
	r.client = j.client // a RadSec request's, named by its certificate
	if r.client == nil {
		r.client = s.clients.Load().Lookup(j.src.Addr())
	}
	if r.client == nil {
		s.drop(&r, ReasonUnknownClient, errors.New("no client-table entry for this source address"))
		return
	}
	pkt, maOffset, err := checkFrame(j.buf[:j.n])
	if err != nil {
		s.drop(&r, ReasonMalformed, err)
		return
	}
	code := radius.Code(pkt[0])
	if code != l.code && code != radius.CodeStatusServer {
		s.drop(&r, ReasonUnsupportedCode, fmt.Errorf("%v on the %s port", code, l.name))
		return
	}
	if code == radius.CodeStatusServer {
		r.code, r.kind = code, kindStatusServer
	}
	if err := verifyRequest(pkt, maOffset, r.client.Secret); err != nil {
		s.drop(&r, ReasonBadAuthenticator, err)
		return
	}
	if code == radius.CodeStatusServer {
		s.status(&r, pkt, maOffset)
		return
	}
	if l.code == radius.CodeAccessRequest {
		if maOffset >= 0 {
			r.client.sawMessageAuthenticator.Store(true)
		} else if r.client.requiresMessageAuthenticator() {
			s.drop(&r, ReasonMissingMessageAut, errMissingMessageAut)
			return
		}
	}

	src := j.src
	if j.stream != nil {
		src = r.client.cacheSrc
	}
	r.key = replyKey{src: src, id: pkt[1], auth: [16]byte(pkt[4:20])}
	switch state, reply := s.cache.begin(j.at.UnixNano(), r.key); state {
	case stateDone:
		l.metrics.retransmits.Inc()
		s.write(j, reply)
		s.endSpan(&r, resultRetransmit, "")
		return
	case stateInFlight:
		s.drop(&r, ReasonInFlight, errors.New("the original is still being decided"))
		return
	}
	if s.shared != nil && s.answeredElsewhere(&r) {
		return
	}

	// Decisions run on their own clock: a SIGTERM lets them finish. The
	// budget runs from receipt, as the NAS's retransmit timer does.
	ctx := s.budget.at(j.at)
	switch {
	case r.span != nil:
		ctx = trace.ContextWithSpan(ctx, r.span)
	case r.unsampled.IsValid():
		ctx = trace.ContextWithSpanContext(ctx, r.unsampled)
	}
	if l.code == radius.CodeAccountingRequest {
		s.account(ctx, r, pkt, maOffset >= 0)
		return
	}
	reply, reason, err := s.access(ctx, &r, pkt, maOffset >= 0)
	s.answer(&r, reply, reason, err)
}

// answeredElsewhere asks the shared reply cache about a request new to this
// edge, and resends the reply or drops the retransmit if another edge has
// the request. Otherwise it reports false, and this edge decides.
func (s *Server) answeredElsewhere(r *request) bool {
	at := r.j.at.UnixNano()
	key := s.shared.key(r.client.Name, r.key)
	outcome, reply := s.shared.claim(at, key)
	switch outcome {
	case sharedAnswered:
		s.cache.finish(at, r.key, reply) // the next retransmit here costs no round trip
		r.l.metrics.sharedRetransmits.Inc()
		s.write(r.j, reply)
		s.endSpan(r, resultRetransmit, "")
		return true
	case sharedInFlight:
		s.cache.abort(at, r.key) // asked again when the NAS retransmits here
		s.drop(r, ReasonInFlight, errors.New("another edge is still deciding the original"))
		return true
	case sharedClaimed, sharedUnknown:
		r.sharedKey = key
	}
	return false
}

// answer sends a decision's reply, or drops the request for reason, and
// settles the reply cache either way. What the backends or the log did
// goes to the port's health, which Status-Server answers from.
func (s *Server) answer(r *request, reply []byte, reason string, err error) {
	l, j := r.l, r.j
	if err != nil {
		s.cache.abort(j.at.UnixNano(), r.key) // no reply was sent: let the retransmit try again
		if r.sharedKey != "" {
			s.shared.release(r.sharedKey)
		}
		if reason == ReasonBackend || reason == ReasonLogUnavailable {
			l.health.failed(time.Now().UnixNano(), err)
		}
		s.drop(r, reason, err)
		return
	}
	s.cache.finish(j.at.UnixNano(), r.key, reply)
	if r.sharedKey != "" {
		s.shared.store(r.sharedKey, reply)
	}
	now := time.Now()
	l.health.succeeded(now.UnixNano())
	code := radius.Code(reply[0])
	result := replyResults[code]
	if result == "" {
		result = code.String()
	}
	s.send(r, reply, result, now)
}

// send writes r's reply and counts it as result; now is when it was
// decided.
func (s *Server) send(r *request, reply []byte, result string, now time.Time) {
	l, j := r.l, r.j
	s.write(j, reply)
	code := radius.Code(reply[0])
	if c, ok := l.metrics.replies[code]; ok {
		c.Inc()
	} else {
		s.metrics.replies.WithLabelValues(l.name, code.String()).Inc()
	}
	s.metrics.request(l.name, r.client.Profile, r.kind, result)
	s.observe(l, r, now.Sub(j.at).Seconds())
	s.endSpan(r, result, "")
}

// access asks the client's profile for the reply to an Access-Request and
// encodes it.
func (s *Server) access(ctx context.Context, r *request, pkt []byte, withMA bool) ([]byte, string, error) {
	p, err := radius.Parse(pkt, r.client.Secret)
	if err != nil {
		return nil, ReasonMalformed, err
	}
	req := &nas.Request{Packet: p, Client: r.client.Name, Source: r.j.src, Received: r.j.at}
	reply, err := r.client.Handler.ServeAccess(ctx, req)
	r.kind = req.Kind
	if err != nil {
		return nil, nas.DropReason(err), err
	}
	b, err := encodeReply(withProxyState(reply, pkt), withMA)
	if err != nil {
		return nil, ReasonInternal, fmt.Errorf("encoding reply: %w", err)
	}
	return b, "", nil
}

// account appends an Accounting-Request to the log, and answers once it is
// durable: only then may the NAS be told. Any failure leaves the NAS
// holding its record, and it retries.
//
// With a log that reports durability by callback (the journal), answer runs
// on the log's goroutine after the fsync, and this worker is free for the
// next request at once: no goroutine waits per record, which raised
// accounting throughput under make bench (docs/performance.md, "Accounting
// answered by callback"). pkt is not used after account returns.
//
// r is a copy, which the callback keeps: the access path's request stays
// on its worker's stack.
func (s *Server) account(ctx context.Context, r request, pkt []byte, withMA bool) {
	answer := func(reply []byte, reason string, err error) { s.answer(&r, reply, reason, err) }
	client := r.client
	if s.cfg.Log == nil {
		answer(nil, ReasonNoAccountingLog, errors.New("no accounting log is configured; the NAS keeps its record and retries"))
		return
	}
	h, ok := client.Handler.(nas.AccountingHandler)
	if !ok {
		answer(nil, ReasonNoAccountingLog, errors.New("the client's profile keeps no accounting"))
		return
	}
	buf := s.records.Get().(*[]byte)
	req := &nas.AccountingRequest{Raw: pkt, Client: client.Name, Source: r.j.src, Received: r.j.at}
	rec, err := h.ServeAccounting(ctx, req, (*buf)[:0])
	r.kind = req.Kind
	if err != nil {
		s.records.Put(buf)
		answer(nil, nas.DropReason(err), err)
		return
	}
	*buf = rec.Wire
	// The response needs only the request's header: accounting parses no
	// radius.Packet (the record is encoded from pkt itself).
	reply := withProxyState(&radius.Packet{Code: radius.CodeAccountingResponse, Identifier: pkt[1], Authenticator: [16]byte(pkt[4:20]), Secret: client.Secret}, pkt)
	start := time.Now()
	s.pending.Add(1)
	s.appendRecord(ctx, rec.LogKey(), rec.Wire, func(err error) {
		defer s.pending.Done()
		// rec lies in buf, which goes back to the pool only once nothing
		// here names the session any more.
		defer s.records.Put(buf)
		if err != nil {
			s.metrics.appendsFailed.Inc()
			answer(nil, ReasonLogUnavailable, fmt.Errorf("appending session %q to the accounting log: %w", rec.SessionID, err))
			return
		}
		s.metrics.appendsOK.Inc()
		s.metrics.appendDuration.Observe(time.Since(start).Seconds())
		b, err := encodeReply(reply, withMA)
		if err != nil {
			answer(nil, ReasonInternal, fmt.Errorf("encoding reply: %w", err))
			return
		}
		answer(b, "", nil)
	})
}

// appendRecord appends one record and calls done with the outcome: from the
// log's goroutine if it can say so by callback, or here once Append returns.
func (s *Server) appendRecord(ctx context.Context, key, value []byte, done func(error)) {
	if a, ok := s.cfg.Log.(acctlog.AsyncAppender); ok {
		a.AppendAsync(ctx, key, value, done)
		return
	}
	done(s.cfg.Log.Append(ctx, key, value))
}

// write sends j's reply the way j came: a datagram, or over its RadSec
// connection.
func (s *Server) write(j job, b []byte) {
	if j.stream != nil {
		j.stream.send(b)
		return
	}
	if _, err := j.l.conn.WriteToUDPAddrPort(b, j.src); err != nil {
		s.log.Error("writing reply", "listener", j.l.name, "to", j.src.String(), "err", err)
	}
}

// drop ends r without a reply, for reason.
func (s *Server) drop(r *request, reason string, err error) {
	s.dropDatagram(r.l, reason, r.j.src, r.client, err)
	if r.client != nil {
		s.metrics.request(r.l.name, r.client.Profile, r.kind, resultDropped)
	}
	s.endSpan(r, resultDropped, reason)
}

// dropDatagram counts and logs a datagram dropped for reason; c is nil
// when its client is not (yet) known.
func (s *Server) dropDatagram(l *listener, reason string, src netip.AddrPort, c *Client, err error) {
	s.metrics.drops.WithLabelValues(l.name, reason).Inc()
	client := ""
	if c != nil {
		client = c.Name
	}
	s.drops.drop(reason, "listener", l.name, "src", src.String(), "client", client, "err", err)
}
