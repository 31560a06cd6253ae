package loadgen

import (
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/nas/firebrick/sipattr"
)

const testSecret = "testing123"

// responder is a RADIUS server for tests: it answers Access-Requests with
// Accept when the password or the digest response is right (or there is
// neither, as for a DID) and Reject otherwise, Accounting-Requests with
// Accounting-Response when their authenticator verifies, and it can be told
// to misbehave. It drops an Access-Request whose Message-Authenticator does
// not verify, as kradius does. It records what it saw.
type responder struct {
	conn      *net.UDPConn
	passwords map[string]string // the accounts; a login for another name is rejected
	sip       map[string]string // the SIP users' passwords, realm sip.example
	drop      func(seq int) bool
	corrupt   func(seq int) bool // flip a bit of the Response Authenticator
	duplicate func(seq int) bool // send the reply twice
	hold      time.Duration      // answer this long after receiving, concurrently

	mu          sync.Mutex
	seq         int
	inflight    int
	maxInflight int
	unauthentic int // Accounting-Requests whose authenticator failed, Access-Requests whose Message-Authenticator did
	requests    []received
	work        sync.WaitGroup
}

// received is a request as it arrived.
type received struct {
	from netip.AddrPort
	b    []byte
}

func newResponder(t *testing.T, configure func(*responder)) *responder {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{conn: conn,
		passwords: map[string]string{"account": "password", "alice": "wonderland"},
		sip:       map[string]string{"office1": "s3cret", "office2": "hunter2"},
	}
	if configure != nil {
		configure(r)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.serve() }()
	t.Cleanup(func() {
		conn.Close()
		<-done
		r.work.Wait()
	})
	return r
}

func (r *responder) addr() string { return r.conn.LocalAddr().String() }

func (r *responder) serve() {
	buf := make([]byte, radius.MaxPacketLength)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		req := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		seq := r.seq
		r.seq++
		r.inflight++
		r.maxInflight = max(r.maxInflight, r.inflight)
		r.requests = append(r.requests, received{from, req})
		r.mu.Unlock()
		answer := func() {
			reply := r.reply(req, seq)
			r.mu.Lock()
			r.inflight--
			r.mu.Unlock()
			if reply == nil {
				return
			}
			_, _ = r.conn.WriteToUDPAddrPort(reply, from)
			if r.duplicate != nil && r.duplicate(seq) {
				_, _ = r.conn.WriteToUDPAddrPort(reply, from)
			}
		}
		if r.hold > 0 {
			// A server's service time, part of the scenario: it keeps
			// requests in flight for the concurrency tests to count.
			r.work.Go(func() { time.Sleep(r.hold); answer() })
		} else {
			answer()
		}
	}
}

// reply is the answer to req, nil for none.
func (r *responder) reply(req []byte, seq int) []byte {
	if r.drop != nil && r.drop(seq) {
		return nil
	}
	p, err := radius.Parse(req, []byte(testSecret))
	if err != nil {
		return nil
	}
	var code radius.Code
	switch p.Code {
	case radius.CodeAccessRequest:
		if _, ok := p.Lookup(rfc2869.MessageAuthenticator_Type); ok && !validMessageAuthenticator(req) {
			r.mu.Lock()
			r.unauthentic++
			r.mu.Unlock()
			return nil
		}
		code = radius.CodeAccessAccept
		if _, ok := p.Lookup(rfc2865.UserPassword_Type); ok {
			pw, err := rfc2865.UserPassword_LookupString(p)
			if want, known := r.passwords[rfc2865.UserName_GetString(p)]; err != nil || !known || pw != want {
				code = radius.CodeAccessReject
			}
		}
		if response := sipattr.DigestResponse_GetString(p); response != "" {
			user := sipattr.DigestUsername_GetString(p)
			pw, known := r.sip[user]
			err := digest.Verify(digest.HA1(user, "sip.example", pw), digest.Request{
				Method: sipattr.DigestMethod_GetString(p), URI: sipattr.DigestURI_GetString(p),
				Nonce: sipattr.DigestNonce_GetString(p), Response: response,
			})
			if !known || sipattr.DigestRealm_GetString(p) != "sip.example" || err != nil {
				code = radius.CodeAccessReject
			}
		}
	case radius.CodeAccountingRequest:
		if !radius.IsAuthenticRequest(req, []byte(testSecret)) {
			r.mu.Lock()
			r.unauthentic++
			r.mu.Unlock()
			return nil
		}
		code = radius.CodeAccountingResponse
	default:
		return nil
	}
	out, err := p.Response(code).Encode()
	if err != nil {
		return nil
	}
	if r.corrupt != nil && r.corrupt(seq) {
		out[4] ^= 0x80
	}
	return out
}

// validMessageAuthenticator checks RFC 3579 §3.2's HMAC-MD5 over an
// Access-Request, written out here apart from the encoder's.
func validMessageAuthenticator(req []byte) bool {
	b := append([]byte(nil), req...)
	for off := 20; off+2 <= len(b) && b[off+1] >= 2; off += int(b[off+1]) {
		if b[off] != byte(rfc2869.MessageAuthenticator_Type) || b[off+1] != 18 {
			continue
		}
		got := append([]byte(nil), b[off+2:off+18]...)
		clear(b[off+2 : off+18])
		mac := hmac.New(md5.New, []byte(testSecret))
		mac.Write(b)
		return hmac.Equal(got, mac.Sum(nil))
	}
	return false
}

// seen returns a copy of the requests received so far and the peak of
// requests held at once.
func (r *responder) seen() (requests []received, maxInflight, unauthentic int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.requests...), r.maxInflight, r.unauthentic
}
