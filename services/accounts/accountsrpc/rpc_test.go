package accountsrpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/password"
	"kradius.dev/services/rpc"
	"kradius.dev/services/rpc/rpctest"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests that stop Redis on purpose
	// check the errors instead.
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// users is how many accounts user0, user1, ... the backend holds; the
// password of userN is pwN.
const users = 20

// backend is a real Redis holding users plus "lb" (a group, no password)
// and "broken" (a stored hash that is not a PHC string).
type backend struct {
	redis *redistest.Server
	store *redisstore.Store
	svc   *accounts.Service
}

func startBackend(t testing.TB) *backend {
	t.Helper()
	srv := redistest.Start(t)
	st := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	t.Cleanup(func() { st.Close() })
	var b fbdata.Batch
	for i := range users {
		h, err := password.Hash(fmt.Sprintf("pw%d", i), cheap)
		if err != nil {
			t.Fatal(err)
		}
		b.Accounts = append(b.Accounts, fbdata.Account{Name: fmt.Sprintf("user%d", i), PasswordHash: h, Type: 4, LoginGroup: "G"})
	}
	b.Accounts = append(b.Accounts,
		fbdata.Account{Name: "lb", Type: 8, Members: []string{"user0"}},
		fbdata.Account{Name: "broken", PasswordHash: "plain-text-by-mistake", Type: 4})
	if err := st.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return &backend{redis: srv, store: st, svc: accounts.New(st, password.NewVerifier(1024, time.Minute))}
}

// serve runs impl on a real gRPC server from rpc.NewServer on 127.0.0.1.
func serve(t testing.TB, impl accountsv1.AccountServiceServer) string {
	return rpctest.Serve(t, func(s *grpc.Server) { accountsv1.RegisterAccountServiceServer(s, impl) })
}

// dial returns a client of addr with the edge's interceptor and what it
// sent. Its budgets are ones only a hang reaches: the tests check the
// answers, and a busy machine must not turn one into a timeout.
func dial(t testing.TB, addr string) (*Client, *rpctest.Calls) {
	t.Helper()
	s := &rpctest.Calls{}
	conn, err := rpc.Dial(addr, rpc.TLSConfig{}, grpc.WithChainUnaryInterceptor(
		s.Intercept,
		rpc.RetryOnce(eventually.Limit, map[string]time.Duration{
			accountsv1.AccountService_Authenticate_FullMethodName:      eventually.Limit,
			accountsv1.AccountService_AuthenticateBatch_FullMethodName: eventually.Limit,
		})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return NewClient(conn), s
}

// login is one Authenticate of the checks below and the answer it must get:
// the account's name, or the one sentinel its error must wrap, or neither
// (unknown).
type login struct {
	name, pw string
	want     string
	wantErr  error
	unknown  bool
}

func logins() []login {
	var ls []login
	for i := range users {
		ls = append(ls,
			login{name: fmt.Sprintf("user%d", i), pw: fmt.Sprintf("pw%d", i), want: fmt.Sprintf("user%d", i)},
			login{name: fmt.Sprintf("USER%d", i), pw: fmt.Sprintf("pw%d", i), want: fmt.Sprintf("user%d", i)},
			login{name: fmt.Sprintf("user%d", i), pw: fmt.Sprintf("pw%d", i+1), wantErr: accounts.ErrWrongPassword},
		)
	}
	return append(ls,
		login{name: "nobody", pw: "pw0", wantErr: fbdata.ErrNotFound},
		login{name: "lb", pw: "", wantErr: accounts.ErrWrongPassword},
		login{name: "broken", pw: "plain-text-by-mistake", unknown: true},
	)
}

// check reports how the answer a, err to l differs from what it must be.
func (l login) check(a fbdata.Account, err error) error {
	for _, sentinel := range []error{fbdata.ErrNotFound, accounts.ErrWrongPassword} {
		if sentinel != l.wantErr && errors.Is(err, sentinel) {
			return fmt.Errorf("Authenticate(%q, %q) = %v, which would be a Reject", l.name, l.pw, err)
		}
	}
	switch {
	case l.unknown:
		if err == nil {
			return fmt.Errorf("Authenticate(%q, %q) = %q, want an error", l.name, l.pw, a.Name)
		}
	case l.wantErr != nil:
		if !errors.Is(err, l.wantErr) {
			return fmt.Errorf("Authenticate(%q, %q) = %q, %v; want %v", l.name, l.pw, a.Name, err, l.wantErr)
		}
	case err != nil || a.Name != l.want || a.LoginGroup != "G" || a.UUID == "":
		return fmt.Errorf("Authenticate(%q, %q) = %+v, %v; want account %q", l.name, l.pw, a, err, l.want)
	}
	return nil
}

// hammer runs every login from many goroutines at once, rounds times each.
func hammer(t *testing.T, c *Client, rounds int) {
	t.Helper()
	ls := logins()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for r := range rounds {
				l := ls[(g*7+r)%len(ls)]
				if err := l.check(c.Authenticate(t.Context(), l.name, l.pw)); err != nil {
					t.Error(err)
				}
				name := fmt.Sprintf("user%d", (g+r)%users)
				if a, err := c.Get(t.Context(), name); err != nil || a.Name != name {
					t.Errorf("Get(%q) = %q, %v", name, a.Name, err)
				}
				if _, err := c.Get(t.Context(), "nobody"); !errors.Is(err, fbdata.ErrNotFound) || errors.Is(err, accounts.ErrWrongPassword) {
					t.Errorf("Get(nobody) = %v, want ErrNotFound alone", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestBatchedOverGRPCAndRedis(t *testing.T) {
	b := startBackend(t)
	c, sent := dial(t, serve(t, NewServer(b.svc)))
	hammer(t, c, 40)
	for _, m := range []string{accountsv1.AccountService_Authenticate_FullMethodName, accountsv1.AccountService_GetAccount_FullMethodName} {
		if n := sent.Count(m); n != 0 {
			t.Errorf("%d unary calls of %s against a server with the batch RPCs", n, m)
		}
	}
	if sent.MaxItems() < 2 {
		t.Errorf("largest batch had %d items: 64 concurrent callers never shared a call", sent.MaxItems())
	}
	t.Logf("batch calls: %d Authenticate, %d Get; largest batch %d items",
		sent.Count(accountsv1.AccountService_AuthenticateBatch_FullMethodName),
		sent.Count(accountsv1.AccountService_GetAccountBatch_FullMethodName), sent.MaxItems())
}

// TestBackendDown: with the store gone, every item fails, and none as not
// found or wrong password, which the edge would turn into a Reject.
func TestBackendDown(t *testing.T) {
	for name, down := range map[string]func(*backend){
		"store closed":  func(b *backend) { b.store.Close() },
		"redis stopped": func(b *backend) { b.redis.Stop() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := startBackend(t)
			c, _ := dial(t, serve(t, NewServer(b.svc)))
			down(b)
			var wg sync.WaitGroup
			for _, l := range logins()[:20] {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
					defer cancel()
					if a, err := c.Authenticate(ctx, l.name, l.pw); err == nil || errors.Is(err, fbdata.ErrNotFound) || errors.Is(err, accounts.ErrWrongPassword) {
						t.Errorf("Authenticate(%q) with the backend down = %q, %v; want an unknown answer", l.name, a.Name, err)
					}
					if a, err := c.Get(ctx, l.name); err == nil || errors.Is(err, fbdata.ErrNotFound) {
						t.Errorf("Get(%q) with the backend down = %q, %v; want an unknown answer", l.name, a.Name, err)
					}
				})
			}
			wg.Wait()
		})
	}
}

// unaryOnly is an AccountService from before the batch RPCs: they answer
// UNIMPLEMENTED.
type unaryOnly struct {
	accountsv1.UnimplementedAccountServiceServer
	s *Server
}

func (u unaryOnly) Authenticate(ctx context.Context, r *accountsv1.AuthenticateRequest) (*accountsv1.AuthenticateResponse, error) {
	return u.s.Authenticate(ctx, r)
}

func (u unaryOnly) GetAccount(ctx context.Context, r *accountsv1.GetAccountRequest) (*accountsv1.GetAccountResponse, error) {
	return u.s.GetAccount(ctx, r)
}

// TestOlderServer: against a server without the batch RPCs the client gets
// the same answers through the unary ones, and stops asking for batches
// until the fallback period is over.
func TestOlderServer(t *testing.T) {
	b := startBackend(t)
	addr := serve(t, unaryOnly{s: NewServer(b.svc)})
	batches := func(s *rpctest.Calls) int {
		return s.Count(accountsv1.AccountService_AuthenticateBatch_FullMethodName) + s.Count(accountsv1.AccountService_GetAccountBatch_FullMethodName)
	}

	c, sent := dial(t, addr)
	c.fallback.Period = time.Hour
	hammer(t, c, 5)
	// The batch calls in flight when the first UNIMPLEMENTED came back, at
	// most maxInFlight of each kind, and none after it.
	if n := batches(sent); n == 0 || n > 2*maxInFlight {
		t.Errorf("%d batch calls, want 1 to %d: the client should stop asking after UNIMPLEMENTED", n, 2*maxInFlight)
	}
	if n := sent.Count(accountsv1.AccountService_Authenticate_FullMethodName); n == 0 {
		t.Error("no unary Authenticate calls")
	}

	// A period over at once: every call tries the batch RPC again first.
	c, sent = dial(t, addr)
	c.fallback.Period = time.Nanosecond
	l := logins()[0]
	for range 3 {
		if err := l.check(c.Authenticate(t.Context(), l.name, l.pw)); err != nil {
			t.Error(err)
		}
	}
	if n := batches(sent); n != 3 {
		t.Errorf("%d batch calls after the fallback periods ended, want 3", n)
	}
}

// brokenServer answers AuthenticateBatch with results that break the
// contract in the way answer says.
type brokenServer struct {
	accountsv1.UnimplementedAccountServiceServer
	answer func(n int) []*accountsv1.AuthenticateResult
}

func (b brokenServer) AuthenticateBatch(_ context.Context, r *accountsv1.AuthenticateBatchRequest) (*accountsv1.AuthenticateBatchResponse, error) {
	return &accountsv1.AuthenticateBatchResponse{Results: b.answer(len(r.GetItems()))}, nil
}

// TestBrokenServerIsUnknown: answers that break the batch contract are
// failures, never an account and never a Reject.
func TestBrokenServerIsUnknown(t *testing.T) {
	for name, answer := range map[string]func(n int) []*accountsv1.AuthenticateResult{
		"one result short": func(n int) []*accountsv1.AuthenticateResult {
			return make([]*accountsv1.AuthenticateResult, n-1)
		},
		"results with neither": func(n int) []*accountsv1.AuthenticateResult {
			rs := make([]*accountsv1.AuthenticateResult, n)
			for i := range rs {
				rs[i] = &accountsv1.AuthenticateResult{}
			}
			return rs
		},
		"errors with code OK": func(n int) []*accountsv1.AuthenticateResult {
			rs := make([]*accountsv1.AuthenticateResult, n)
			for i := range rs {
				rs[i] = &accountsv1.AuthenticateResult{Result: &accountsv1.AuthenticateResult_Error{Error: &accountsv1.ItemError{Message: "fine"}}}
			}
			return rs
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := dial(t, serve(t, brokenServer{answer: answer}))
			a, err := c.Authenticate(t.Context(), "user0", "pw0")
			if err == nil || errors.Is(err, fbdata.ErrNotFound) || errors.Is(err, accounts.ErrWrongPassword) {
				t.Errorf("Authenticate = %+v, %v; want an unknown answer", a, err)
			}
		})
	}
}

// TestServerBatchLimit: a batch over the server's limit fails as a whole,
// with a status that is no Reject.
func TestServerBatchLimit(t *testing.T) {
	b := startBackend(t)
	conn, err := rpc.Dial(serve(t, NewServer(b.svc)), rpc.TLSConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	items := make([]*accountsv1.GetAccountRequest, rpc.MaxBatchItems+1)
	for i := range items {
		items[i] = &accountsv1.GetAccountRequest{Name: "user0"}
	}
	_, err = accountsv1.NewAccountServiceClient(conn).GetAccountBatch(t.Context(), &accountsv1.GetAccountBatchRequest{Items: items})
	if err = rpc.FromStatus(err); !errors.Is(err, fbdata.ErrInvalid) {
		t.Errorf("GetAccountBatch of %d items = %v, want ErrInvalid", len(items), err)
	}
}

// BenchmarkAuthenticateParallel is an edge's logins against one accounts
// service over real gRPC and Redis, all on this machine, with the password
// cache warm: what the batching saves is per-call cost on all three. p is
// b.SetParallelism: p×GOMAXPROCS callers at once, few (nothing to batch) or
// many (a loaded edge).
func BenchmarkAuthenticateParallel(b *testing.B) {
	be := startBackend(b)
	c, _ := dial(b, serve(b, NewServer(be.svc)))
	var names, passwords [users]string
	for i := range users {
		names[i], passwords[i] = fmt.Sprintf("user%d", i), fmt.Sprintf("pw%d", i)
		if _, err := c.Authenticate(b.Context(), names[i], passwords[i]); err != nil {
			b.Fatal(err)
		}
	}
	modes := []struct {
		name string
		call func(context.Context, string, string) (fbdata.Account, error)
	}{
		{"unary", func(ctx context.Context, name, pw string) (fbdata.Account, error) {
			return c.authenticate(ctx, &accountsv1.AuthenticateRequest{Name: name, Password: pw})
		}},
		{"batched", c.Authenticate},
	}
	for _, p := range []int{1, 32} {
		for _, mode := range modes {
			b.Run(fmt.Sprintf("%s/p=%d", mode.name, p), func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(p)
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						if _, err := mode.call(b.Context(), names[i%users], passwords[i%users]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
