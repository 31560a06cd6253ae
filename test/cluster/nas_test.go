package cluster

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/nas/faxback/fbattr"
)

// nasSocket plays one FaxBack port server's RADIUS socket from the client
// namespace: a fixed source port, up to 256 requests in flight by their
// Identifier, and each request resent unchanged every retry until it is
// answered, as the port server does (seed: "Retransmits"). Its flow is one
// conntrack entry, which a rollout moves from a stopped pod to a live one.
type nasSocket struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	secret []byte
	retry  time.Duration
	ids    chan byte // the free Identifiers

	mu      sync.Mutex
	waiting [256]chan []byte
}

func newNASSocket(conn *net.UDPConn, server, secret string, retry time.Duration) (*nasSocket, error) {
	addr, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		return nil, err
	}
	s := &nasSocket{conn: conn, server: addr, secret: []byte(secret), retry: retry, ids: make(chan byte, 256)}
	for i := range 256 {
		s.ids <- byte(i)
	}
	go s.read()
	return s, nil
}

// read hands each datagram to the request waiting on its Identifier; the
// exchange checks that it answers that request.
func (s *nasSocket) read() {
	buf := make([]byte, 4096)
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			return // closed
		}
		if n < 20 {
			continue
		}
		s.mu.Lock()
		ch := s.waiting[buf[1]]
		s.mu.Unlock()
		if ch != nil {
			select {
			case ch <- append([]byte(nil), buf[:n]...):
			default:
			}
		}
	}
}

// exchange sends p until an authentic reply comes or ctx ends, and
// returns the reply and how many times p was sent.
func (s *nasSocket) exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, int, error) {
	var id byte
	select {
	case id = <-s.ids:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { s.ids <- id }()
	p.Identifier = id
	raw, err := p.Encode()
	if err != nil {
		return nil, 0, err
	}
	ch := make(chan []byte, 1)
	s.mu.Lock()
	s.waiting[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting[id] = nil
		s.mu.Unlock()
	}()
	sends := 0
	resend := time.NewTimer(0)
	defer resend.Stop()
	for {
		select {
		case <-resend.C:
			if _, err := s.conn.WriteToUDP(raw, s.server); err != nil {
				return nil, sends, err
			}
			sends++
			resend.Reset(s.retry)
		case b := <-ch:
			// A late reply to this Identifier's previous request fails
			// the authenticator check against this one.
			if !radius.IsAuthenticResponse(b, raw, s.secret) {
				continue
			}
			reply, err := radius.Parse(b, s.secret)
			if err != nil {
				return nil, sends, err
			}
			return reply, sends, nil
		case <-ctx.Done():
			return nil, sends, fmt.Errorf("no answer after %d sends: %w", sends, ctx.Err())
		}
	}
}

func (s *nasSocket) close() { s.conn.Close() }

// faxbackLogin is a port server's account login (Get-Account,
// Account-Login).
func faxbackLogin(secret, user, password string) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	rfc2865.UserName_SetString(p, user)
	rfc2865.UserPassword_SetString(p, password)
	fbattr.FBCommand_Set(p, fbattr.FBCommand_Value_GetAccount)
	fbattr.FBContext_Set(p, fbattr.FBContext_Value_AccountLogin)
	return p
}

// faxbackStop is a port server's Accounting Stop of a sent fax.
func faxbackStop(secret, session, user, dialled string) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, []byte(secret))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, session)
	rfc2865.UserName_SetString(p, user)
	fbattr.FBDialNumber_SetString(p, dialled)
	fbattr.FBIsSend_Set(p, fbattr.FBIsSend_Value_True)
	fbattr.FBCalledNumberResult_Set(p, fbattr.FBCalledNumberResult_Value_Success)
	return p
}
