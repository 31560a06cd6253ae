package loadgen

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/dialogic/dlgattr"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/firebrick/sipattr"
)

// testConfig is a run of 1000 logins against addr. Duration is only a safety
// net: the tests' runs end by count. Timeout bounds a hang: a reply the
// responder sends is one the tests count, however busy the machine.
func testConfig(addr string) Config {
	return Config{
		Server: addr, AcctServer: addr, Secret: testSecret,
		Concurrency: 16, Sockets: 4, Count: 1000, Duration: time.Minute, Timeout: eventually.Limit,
		Mix:      []Weight{{KindLogin, 1}},
		Accounts: []Account{{"account", "password"}, {"alice", "wonderland"}},
		DIDs:     []string{"5551231234"},
	}
}

func run(t *testing.T, cfg Config) Result {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkBalance(t, res)
	return res
}

// checkBalance checks what holds for every run: nothing is left in flight,
// and every reply is counted once.
func checkBalance(t *testing.T, res Result) {
	t.Helper()
	if res.Sent != res.Received+res.Timeouts {
		t.Errorf("sent %d != received %d + timeouts %d", res.Sent, res.Received, res.Timeouts)
	}
	if got := sum(res.Replies) + res.BadAuthenticator; got != res.Received {
		t.Errorf("replies by code + bad authenticator = %d, received %d", got, res.Received)
	}
	if got := sum(res.Requests); got != res.Sent {
		t.Errorf("requests by kind add up to %d, sent %d", got, res.Sent)
	}
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func TestRunCounts(t *testing.T) {
	every := func(k, rem int) func(int) bool { return func(seq int) bool { return seq%k == rem } }
	tests := []struct {
		name      string
		responder func(*responder)
		config    func(*Config)
		sent      uint64
		timeouts  uint64
		bad       uint64
		stray     uint64
		replies   map[string]uint64
	}{
		{
			name:    "closed loop, every login accepted",
			sent:    1000,
			replies: map[string]uint64{"Access-Accept": 1000},
		},
		{
			name:    "wrong password is rejected",
			config:  func(c *Config) { c.Accounts = []Account{{"account", "wrong"}}; c.Count = 100 },
			sent:    100,
			replies: map[string]uint64{"Access-Reject": 100},
		},
		{
			name:      "dropped requests are timeouts",
			responder: func(r *responder) { r.drop = every(10, 3) },
			// A drop is told from a late reply only by the timeout: one
			// far past any reply's time here, that the run waits out once.
			config: func(c *Config) { c.Count = 500; c.Concurrency = 64; c.Timeout = 5 * time.Second },
			sent:   500, timeouts: 50,
			replies: map[string]uint64{"Access-Accept": 450},
		},
		{
			name:      "corrupt authenticators are bad, not success",
			responder: func(r *responder) { r.corrupt = every(5, 0) },
			config:    func(c *Config) { c.Count = 500 },
			sent:      500, bad: 100,
			replies: map[string]uint64{"Access-Accept": 400},
		},
		{
			// Not near the end: a duplicate of one of the last replies can
			// arrive after the run is over. Earlier ones are followed on
			// their socket by the reply to the request sent in their place.
			name:      "duplicate replies are stray",
			responder: func(r *responder) { r.duplicate = func(seq int) bool { return seq%7 == 0 && seq < 600 } },
			config:    func(c *Config) { c.Count = 700 },
			sent:      700, stray: 86,
			replies: map[string]uint64{"Access-Accept": 700},
		},
		{
			name:    "count below concurrency",
			config:  func(c *Config) { c.Count = 3 },
			sent:    3,
			replies: map[string]uint64{"Access-Accept": 3},
		},
		{
			name:    "count not a multiple of sockets",
			config:  func(c *Config) { c.Count = 257; c.Sockets = 3; c.Concurrency = 7 },
			sent:    257,
			replies: map[string]uint64{"Access-Accept": 257},
		},
		{
			name:    "did",
			config:  func(c *Config) { c.Mix = []Weight{{KindDID, 1}}; c.Count = 200 },
			sent:    200,
			replies: map[string]uint64{"Access-Accept": 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponder(t, tt.responder)
			cfg := testConfig(srv.addr())
			if tt.config != nil {
				tt.config(&cfg)
			}
			res := run(t, cfg)
			if res.Sent != tt.sent || res.Timeouts != tt.timeouts || res.BadAuthenticator != tt.bad || res.Stray != tt.stray {
				t.Errorf("sent %d, timeouts %d, bad authenticator %d, stray %d; want %d, %d, %d, %d",
					res.Sent, res.Timeouts, res.BadAuthenticator, res.Stray, tt.sent, tt.timeouts, tt.bad, tt.stray)
			}
			if !equalCounts(res.Replies, tt.replies) {
				t.Errorf("replies %v, want %v", res.Replies, tt.replies)
			}
			if res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 {
				t.Errorf("latency %+v: want a positive median and max ≥ p99", res.Latency)
			}
		})
	}
}

func equalCounts(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestNoServerEveryRequestTimesOut: requests nobody answers time out. The
// port stays bound, to a socket never read: a port closed again could be
// taken by the server of a test running beside, which did answer.
func TestNoServerEveryRequestTimesOut(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	addr := conn.LocalAddr().String()
	cfg := testConfig(addr)
	cfg.Count, cfg.Timeout = 20, 50*time.Millisecond
	res := run(t, cfg)
	if res.Sent != 20 || res.Timeouts != 20 || res.Received != 0 {
		t.Errorf("sent %d, timeouts %d, received %d; want 20, 20, 0", res.Sent, res.Timeouts, res.Received)
	}
}

func TestIdentifierReuse(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := testConfig(srv.addr())
	cfg.Sockets, cfg.Concurrency, cfg.Count = 1, 8, 2000
	res := run(t, cfg)
	if res.Received != 2000 || res.Stray != 0 || res.BadAuthenticator != 0 {
		t.Fatalf("received %d, stray %d, bad %d; want 2000, 0, 0", res.Received, res.Stray, res.BadAuthenticator)
	}
	requests, _, _ := srv.seen()
	ports := map[netip.AddrPort]bool{}
	ids := map[byte]int{}
	for _, r := range requests {
		ports[r.from] = true
		ids[r.b[1]]++
	}
	if len(ports) != 1 || len(ids) != idsPerSocket {
		t.Errorf("%d source ports and %d Identifiers; want 1 and every one of %d", len(ports), len(ids), idsPerSocket)
	}
}

func TestConcurrencyNeverExceeded(t *testing.T) {
	tests := []struct {
		name                 string
		concurrency, sockets int
		rate                 float64
	}{
		{"closed loop", 12, 3, 0},
		{"closed loop, uneven split", 5, 2, 0},
		{"more sockets than requests", 2, 4, 0},
		{"open loop above capacity", 4, 2, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponder(t, func(r *responder) { r.hold = 2 * time.Millisecond })
			cfg := testConfig(srv.addr())
			cfg.Concurrency, cfg.Sockets, cfg.Rate, cfg.Count = tt.concurrency, tt.sockets, tt.rate, 300
			res := run(t, cfg)
			_, peak, _ := srv.seen()
			if peak < 1 || peak > tt.concurrency {
				t.Errorf("responder held %d requests at once; want 1 to %d", peak, tt.concurrency)
			}
			if res.Sockets > tt.concurrency {
				t.Errorf("used %d sockets for %d requests in flight", res.Sockets, tt.concurrency)
			}
			// Each request is held 2ms, so 4 slots serve at most 2000/s:
			// a 5000/s schedule must find them full.
			if tt.rate > 0 && res.Late == 0 {
				t.Errorf("late = 0 at %g req/s with %d slots held 2ms each", tt.rate, tt.concurrency)
			}
		})
	}
}

func TestRateSendsRoughlyAtRate(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := testConfig(srv.addr())
	cfg.Rate, cfg.Count, cfg.Duration = 200, 0, time.Second
	res := run(t, cfg)
	// The schedule has 200 requests in one second. Bounds are generous: a
	// slow machine can only lose some to lateness, never send more.
	if scheduled := res.Sent + res.Late + res.SendErrors; scheduled > 200 || res.Sent < 100 {
		t.Errorf("sent %d (late %d) at 200 req/s for 1s; want 100 to 200", res.Sent, res.Late)
	}
}

func TestMixWeights(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := testConfig(srv.addr())
	cfg.Mix = []Weight{{KindLogin, 80}, {KindDID, 20}}
	res := run(t, cfg)
	// Binomial(1000, 0.2) has a standard deviation of 12.6: ±100 never fails.
	if did := res.Requests["did"]; res.Requests["login"]+did != 1000 || did < 100 || did > 300 {
		t.Errorf("requests %v; want about 800 login and 200 did", res.Requests)
	}
}

func TestPoolDraws(t *testing.T) {
	for _, random := range []bool{false, true} {
		t.Run(map[bool]string{false: "round-robin", true: "random"}[random], func(t *testing.T) {
			srv := newResponder(t, nil)
			cfg := testConfig(srv.addr())
			cfg.Concurrency, cfg.Sockets, cfg.Count, cfg.Random = 1, 1, 100, random
			run(t, cfg)
			requests, _, _ := srv.seen()
			names := map[string]int{}
			for _, r := range requests {
				p, err := radius.Parse(r.b, []byte(testSecret))
				if err != nil {
					t.Fatal(err)
				}
				names[rfc2865.UserName_GetString(p)]++
			}
			// Random: all 100 on one of two accounts has probability 2^-99.
			if names["account"]+names["alice"] != 100 || names["account"] == 0 || names["alice"] == 0 {
				t.Errorf("user names %v", names)
			}
			if !random && names["account"] != 50 {
				t.Errorf("round-robin over two accounts drew %v", names)
			}
		})
	}
}

func TestAccounting(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := testConfig(srv.addr())
	cfg.Mix, cfg.Count = []Weight{{KindAcct, 1}}, 400
	res := run(t, cfg)
	requests, _, unauthentic := srv.seen()
	if unauthentic != 0 || res.Replies["Accounting-Response"] != 400 {
		t.Fatalf("%d unauthentic requests, replies %v; want 0 and 400 Accounting-Response", unauthentic, res.Replies)
	}
	started := map[string]string{} // session → user
	var stops int
	for _, r := range requests {
		p, err := radius.Parse(r.b, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		sess, user := rfc2866.AcctSessionID_GetString(p), rfc2865.UserName_GetString(p)
		switch rfc2866.AcctStatusType_Get(p) {
		case rfc2866.AcctStatusType_Value_Start:
			if _, dup := started[sess]; dup {
				t.Errorf("session %s started twice", sess)
			}
			started[sess] = user
		case rfc2866.AcctStatusType_Value_Stop:
			stops++
			if started[sess] != user {
				t.Errorf("Stop of session %s for %q; its Start was for %q", sess, user, started[sess])
			}
			if _, err := fbattr.FBCalledNumberResult_Lookup(p); err != nil {
				t.Errorf("Stop without FB-Called-Number-Result: %v", err)
			}
		default:
			t.Errorf("Acct-Status-Type %v", rfc2866.AcctStatusType_Get(p))
		}
	}
	if res.Requests["acct_start"] != uint64(len(started)) || res.Requests["acct_stop"] != uint64(stops) || stops == 0 || stops > len(started) {
		t.Errorf("requests %v; responder saw %d Starts and %d Stops", res.Requests, len(started), stops)
	}
}

func TestInterruptedBeforeStart(t *testing.T) {
	srv := newResponder(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, testConfig(srv.addr()))
	if err != nil || !res.Interrupted || res.Sent != 0 {
		t.Errorf("Run with a done context: sent %d, interrupted %v, err %v; want 0, true, nil", res.Sent, res.Interrupted, err)
	}
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	cfg := testConfig("127.0.0.1:1812")
	cfg.Concurrency = 2000
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Error("Run accepted 2000 in flight over 4 sockets")
	}
}

// firebrickConfig is a run of FireBrick requests from 127.0.0.3, the
// address a server would know its FireBrick by.
func firebrickConfig(addr string, mix ...Weight) Config {
	cfg := testConfig(addr)
	cfg.Mix, cfg.Count = mix, 300
	cfg.SIPUsers = []Account{{"office1", "s3cret"}, {"office2", "hunter2"}}
	cfg.Realm = "sip.example"
	cfg.Dialled = []string{"441", "442", "443"}
	cfg.Source = "127.0.0.3"
	return cfg
}

func TestFireBrick(t *testing.T) {
	tests := []struct {
		name    string
		config  func(*Config)
		replies map[string]uint64
	}{
		{"register", func(c *Config) { c.Mix = []Weight{{KindRegister, 1}} }, map[string]uint64{"Access-Accept": 300}},
		{"invite", func(c *Config) { c.Mix = []Weight{{KindInvite, 1}} }, map[string]uint64{"Access-Accept": 300}},
		{"register, wrong password", func(c *Config) {
			c.Mix, c.SIPUsers = []Weight{{KindRegister, 1}}, []Account{{"office1", "guess"}}
		}, map[string]uint64{"Access-Reject": 300}},
		{"register, another realm", func(c *Config) {
			c.Mix, c.Realm = []Weight{{KindRegister, 1}}, "other.example"
		}, map[string]uint64{"Access-Reject": 300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponder(t, nil)
			cfg := firebrickConfig(srv.addr())
			tt.config(&cfg)
			res := run(t, cfg)
			if !equalCounts(res.Replies, tt.replies) || res.Timeouts != 0 {
				t.Errorf("replies %v, timeouts %d; want %v, 0", res.Replies, res.Timeouts, tt.replies)
			}
			requests, _, unauthentic := srv.seen()
			if unauthentic != 0 {
				t.Errorf("%d requests with a bad Message-Authenticator", unauthentic)
			}
			for _, r := range requests {
				if r.from.Addr() != netip.MustParseAddr("127.0.0.3") {
					t.Fatalf("a request from %s, want 127.0.0.3", r.from)
				}
			}
		})
	}
}

func TestFireBrickPools(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := firebrickConfig(srv.addr(), Weight{KindRegister, 1}, Weight{KindInvite, 1})
	cfg.Concurrency, cfg.Sockets = 1, 1
	res := run(t, cfg)
	if res.Replies["Access-Accept"] != 300 {
		t.Fatalf("replies %v, want 300 Access-Accept", res.Replies)
	}
	requests, _, _ := srv.seen()
	registered, dialled := map[string]int{}, map[string]int{}
	for _, r := range requests {
		p, err := radius.Parse(r.b, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		switch sipattr.DigestMethod_GetString(p) {
		case "REGISTER":
			registered[rfc2865.UserName_GetString(p)]++
		case "INVITE":
			dialled[rfc2865.CalledStationID_GetString(p)]++
		}
	}
	// Round-robin: each pool drawn evenly, within one of its size.
	if len(registered) != 2 || len(dialled) != 3 ||
		uint64(registered["office1"]+registered["office2"]) != res.Requests["register"] ||
		abs(registered["office1"]-registered["office2"]) > 1 {
		t.Errorf("registered %v, dialled %v; requests %v", registered, dialled, res.Requests)
	}
}

func abs(n int) int { return max(n, -n) }

// dialogicConfig is a run of a Dialogic IMG's accounting from 127.0.0.5,
// the address a server would know its IMG by.
func dialogicConfig(addr string) Config {
	cfg := testConfig(addr)
	cfg.Mix, cfg.Count = []Weight{{KindDialogic, 1}}, 400
	cfg.Dialled = []string{"441", "442", "443"}
	cfg.Source = "127.0.0.5"
	return cfg
}

func TestDialogic(t *testing.T) {
	tests := []struct {
		name string
		mix  []Weight
	}{
		{"dialogic", []Weight{{KindDialogic, 1}}},
		// Each kind sends the Stops of its own sessions.
		{"with acct", []Weight{{KindAcct, 1}, {KindDialogic, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponder(t, nil)
			cfg := dialogicConfig(srv.addr())
			cfg.Mix = tt.mix
			res := run(t, cfg)
			requests, _, unauthentic := srv.seen()
			if unauthentic != 0 || res.Replies["Accounting-Response"] != 400 || res.Timeouts != 0 {
				t.Fatalf("%d unauthentic requests, replies %v, %d timeouts; want 0, 400 Accounting-Response, 0", unauthentic, res.Replies, res.Timeouts)
			}
			if res.AcctServer == "" {
				t.Error("no accounting server in the result")
			}
			// A session's Start, by session: its kind and number.
			type call struct{ img, called string }
			started := map[string]call{}
			starts, stops := map[bool]int{}, map[bool]int{}
			for _, r := range requests {
				if r.from.Addr() != netip.MustParseAddr("127.0.0.5") {
					t.Fatalf("a request from %s, want 127.0.0.5", r.from)
				}
				p, err := radius.Parse(r.b, []byte(testSecret))
				if err != nil {
					t.Fatal(err)
				}
				sess := rfc2866.AcctSessionID_GetString(p)
				c := call{rfc2865.NASIPAddress_Get(p).String(), rfc2865.CalledStationID_GetString(p)}
				img := c.img == "10.0.0.1"
				if _, err := dlgattr.DialogicStartTime_Lookup(p); img != (err == nil) {
					t.Fatalf("NAS-IP-Address %s, Dialogic-Start-Time: %v", c.img, err)
				}
				switch rfc2866.AcctStatusType_Get(p) {
				case rfc2866.AcctStatusType_Value_Start:
					if _, dup := started[sess]; dup {
						t.Errorf("session %s started twice", sess)
					}
					started[sess] = c
					starts[img]++
				case rfc2866.AcctStatusType_Value_Stop:
					if s, ok := started[sess]; !ok || s != c {
						t.Errorf("Stop of session %s %+v; its Start %+v (%v)", sess, c, s, ok)
					}
					stops[img]++
				default:
					t.Errorf("Acct-Status-Type %v", rfc2866.AcctStatusType_Get(p))
				}
			}
			if res.Requests["dialogic_start"] != uint64(starts[true]) || res.Requests["dialogic_stop"] != uint64(stops[true]) ||
				res.Requests["acct_start"] != uint64(starts[false]) || res.Requests["acct_stop"] != uint64(stops[false]) ||
				stops[true] == 0 || stops[true] > starts[true] {
				t.Errorf("requests %v; responder saw Starts %v and Stops %v (IMG true, FaxBack false)", res.Requests, starts, stops)
			}
			if len(tt.mix) == 2 && stops[false] == 0 {
				t.Errorf("no FaxBack Stops: %v", res.Requests)
			}
		})
	}
}
