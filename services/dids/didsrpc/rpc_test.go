package didsrpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/dids"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
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

// numbers is how many DIDs 5550000, 5550001, ... the backend holds; every
// third has line 1.
const numbers = 30

func number(i int) string { return fmt.Sprintf("555%04d", i) }

func want(i int) fbdata.DID {
	d := fbdata.DID{Number: number(i), Account: fmt.Sprintf("owner%d", i%3)}
	if i%3 == 0 {
		n := uint32(1)
		d.LineNum, d.LineID = &n, "line 1"
	}
	return d
}

type backend struct {
	redis *redistest.Server
	store *redisstore.Store
	svc   *dids.Service
}

func startBackend(t testing.TB) *backend {
	t.Helper()
	srv := redistest.Start(t)
	st := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	t.Cleanup(func() { st.Close() })
	var b fbdata.Batch
	for i := range 3 {
		b.Accounts = append(b.Accounts, fbdata.Account{Name: fmt.Sprintf("owner%d", i), Type: 4})
	}
	for i := range numbers {
		b.DIDs = append(b.DIDs, want(i))
	}
	if err := st.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return &backend{redis: srv, store: st, svc: dids.New(st)}
}

// serve runs impl on a real gRPC server from rpc.NewServer on 127.0.0.1.
func serve(t testing.TB, impl didsv1.DIDServiceServer) string {
	return rpctest.Serve(t, func(s *grpc.Server) { didsv1.RegisterDIDServiceServer(s, impl) })
}

// dial returns a client of addr with the edge's interceptor and what it
// sent. Its budget is one only a hang reaches: the tests check the
// answers, and a busy machine must not turn one into a timeout.
func dial(t testing.TB, addr string) (*Client, *rpctest.Calls) {
	t.Helper()
	s := &rpctest.Calls{}
	conn, err := rpc.Dial(addr, rpc.TLSConfig{}, grpc.WithChainUnaryInterceptor(s.Intercept, rpc.RetryOnce(eventually.Limit, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return NewClient(conn), s
}

// hammer routes every DID and some unknown numbers from many goroutines.
func hammer(t *testing.T, c *Client, rounds int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for r := range rounds {
				i := (g*7 + r) % (numbers + 5)
				route, err := c.Route(t.Context(), number(i))
				if i >= numbers {
					if !errors.Is(err, fbdata.ErrNotFound) {
						t.Errorf("Route(%s) = %+v, %v; want ErrNotFound", number(i), route, err)
					}
					continue
				}
				if err != nil || !reflect.DeepEqual(route.DID, want(i)) || !route.HasAccount || route.Account.Name != want(i).Account {
					t.Errorf("Route(%s) = %+v, %v; want %+v and its account", number(i), route, err, want(i))
				}
			}
		})
	}
	wg.Wait()
}

func TestBatchedOverGRPCAndRedis(t *testing.T) {
	b := startBackend(t)
	c, sent := dial(t, serve(t, NewServer(b.svc)))
	hammer(t, c, 50)
	if n := sent.Count(didsv1.DIDService_GetDID_FullMethodName); n != 0 {
		t.Errorf("%d unary GetDID calls against a server with GetDIDBatch", n)
	}
	if sent.MaxItems() < 2 {
		t.Errorf("largest batch had %d items: 64 concurrent callers never shared a call", sent.MaxItems())
	}
	t.Logf("%d batch calls; largest batch %d items", sent.Count(didsv1.DIDService_GetDIDBatch_FullMethodName), sent.MaxItems())
}

// TestBackendDown: with the store gone, every item fails, and none as not
// found, which the edge would turn into a Reject.
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
			for i := range numbers + 5 {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
					defer cancel()
					if r, err := c.Route(ctx, number(i)); err == nil || errors.Is(err, fbdata.ErrNotFound) {
						t.Errorf("Route(%s) with the backend down = %+v, %v; want an unknown answer", number(i), r, err)
					}
				})
			}
			wg.Wait()
		})
	}
}

// unaryOnly is a DIDService from before GetDIDBatch, which answers
// UNIMPLEMENTED.
type unaryOnly struct {
	didsv1.UnimplementedDIDServiceServer
	s *Server
}

func (u unaryOnly) GetDID(ctx context.Context, r *didsv1.GetDIDRequest) (*didsv1.GetDIDResponse, error) {
	return u.s.GetDID(ctx, r)
}

// TestOlderServer: see accountsrpc's.
func TestOlderServer(t *testing.T) {
	b := startBackend(t)
	addr := serve(t, unaryOnly{s: NewServer(b.svc)})

	c, sent := dial(t, addr)
	c.fallback.Period = time.Hour
	hammer(t, c, 10)
	if n := sent.Count(didsv1.DIDService_GetDIDBatch_FullMethodName); n == 0 || n > maxInFlight {
		t.Errorf("%d batch calls, want 1 to %d: the client should stop asking after UNIMPLEMENTED", n, maxInFlight)
	}
	if n := sent.Count(didsv1.DIDService_GetDID_FullMethodName); n == 0 {
		t.Error("no unary GetDID calls")
	}

	c, sent = dial(t, addr)
	c.fallback.Period = time.Nanosecond
	for range 3 {
		if r, err := c.Route(t.Context(), number(1)); err != nil || !reflect.DeepEqual(r.DID, want(1)) || !r.HasAccount {
			t.Errorf("Route = %+v, %v; want %+v and its account", r, err, want(1))
		}
	}
	if n := sent.Count(didsv1.DIDService_GetDIDBatch_FullMethodName); n != 3 {
		t.Errorf("%d batch calls after the fallback periods ended, want 3", n)
	}
}

// TestRouteToMissingAccount: a DID whose account is gone is a broken store,
// never an unknown DID (which the edge would answer with a Reject).
func TestRouteToMissingAccount(t *testing.T) {
	b := startBackend(t)
	raw := redis.NewClient(&redis.Options{Addr: b.redis.Addr()})
	defer raw.Close()
	if err := raw.Set(t.Context(), redisstore.DefaultPrefix+":did:5559999", `{"number":"5559999","account":"ghost"}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	c, _ := dial(t, serve(t, NewServer(b.svc)))
	for name, call := range map[string]func() (dids.Route, error){
		"batched": func() (dids.Route, error) { return c.Route(t.Context(), "5559999") },
		"unary": func() (dids.Route, error) {
			return c.getRoute(t.Context(), &didsv1.GetDIDRequest{Number: "5559999", WithAccount: true})
		},
	} {
		route, err := call()
		if err == nil || errors.Is(err, fbdata.ErrNotFound) || !strings.Contains(err.Error(), "ghost") {
			t.Errorf("%s: Route of a DID routing to a missing account = %+v, %v; want an unknown answer naming the account", name, route, err)
		}
	}
	if d, err := b.svc.GetDID(t.Context(), "5559999"); err != nil || d.Account != "ghost" {
		t.Errorf("the DID alone = %+v, %v", d, err)
	}
}

// TestRouteFromOlderServer: a dids service older than with_account answers
// with the DID alone; the route says so, and the caller asks the accounts
// service.
func TestRouteFromOlderServer(t *testing.T) {
	b := startBackend(t)
	c, _ := dial(t, serve(t, withoutAccounts{NewServer(b.svc)}))
	route, err := c.Route(t.Context(), number(4))
	if err != nil || route.HasAccount || !reflect.DeepEqual(route.DID, want(4)) {
		t.Errorf("Route from an older server = %+v, %v; want the DID without its account", route, err)
	}
}

// withoutAccounts answers as a server that ignores with_account would.
type withoutAccounts struct{ *Server }

func (w withoutAccounts) GetDIDBatch(ctx context.Context, r *didsv1.GetDIDBatchRequest) (*didsv1.GetDIDBatchResponse, error) {
	for _, it := range r.GetItems() {
		it.WithAccount = false
	}
	return w.Server.GetDIDBatch(ctx, r)
}
