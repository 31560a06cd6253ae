package firebrick

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
)

// A user without a number registers with kradius, and a route's
// user:NAME leg rings each live contact; unregistering empties it.
func TestRegistrationsRouteCalls(t *testing.T) {
	s := service(t)
	ctx := context.Background()
	if err := s.Put(ctx, []recordsvc.Write{
		{Kind: KindUsers, Value: &firebrickv1.User{Name: "roamer", Ha1: map[string]string{realm: digest.HA1("roamer", realm, "s3cret")}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "300", Legs: []*firebrickv1.Leg{
			{Target: "user:roamer", Cli: "Anonymous"}, {Target: "tel:999", DelaySeconds: 20},
		}}},
		{Kind: KindRoutes, Value: &firebrickv1.Route{Pattern: "301", Legs: []*firebrickv1.Leg{{Target: "user:roamer"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	built, err := Plugin.New(nas.Deps{Records: s, Metrics: prometheus.NewRegistry(), Host: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	p := built.(*profile)
	p.now = func() time.Time { return now }
	h, err := built.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := h.(*client)
	register := func(contact string, expires uint32) {
		t.Helper()
		req := sipRequest("roamer", "REGISTER", "fb-nonce", "s3cret", expires)
		req.Add(121, radius.Attribute(contact))
		if expires == 0 {
			rfc2865.SessionTimeout_Set(req, 0)
		}
		got, err := c.ServeAccess(ctx, &nas.Request{Packet: req})
		if err != nil || got.Code != radius.CodeAccessAccept {
			t.Fatalf("REGISTER %s: %v %v", contact, got, err)
		}
		if b := rfc2865.CalledStationID_GetString(got); b != "" {
			t.Fatalf("REGISTER bound %q: a user without a number has no tel: binding", b)
		}
	}
	call := func(dialled string) (*radius.Packet, []string) {
		t.Helper()
		req := invite("reception", "", true)
		rfc2865.CalledStationID_SetString(req, dialled)
		got, err := c.ServeAccess(ctx, &nas.Request{Packet: req})
		if err != nil {
			t.Fatal(err)
		}
		var aors []string
		for _, a := range got.Attributes {
			if a.Type == 121 {
				aors = append(aors, string(a.Attribute))
			}
		}
		return got, aors
	}

	register("sip:roamer@192.0.2.10:5060", 600)
	register("sip:roamer@198.51.100.4:5062", 60)
	if _, aors := call("300"); len(aors) != 3 || aors[0] != "sip:roamer@192.0.2.10:5060" || aors[1] != "sip:roamer@198.51.100.4:5062" || aors[2] != "20+tel:999" {
		t.Errorf("legs %q: want both contacts, then the cascade", aors)
	}
	// The second contact lapses.
	now = now.Add(2 * time.Minute)
	if _, aors := call("301"); len(aors) != 1 || aors[0] != "sip:roamer@192.0.2.10:5060" {
		t.Errorf("legs %q: want the live contact only", aors)
	}
	// Unregistered: Expires 0. (The lapsed contact is still stored: the
	// store prunes by its own clock, which this test does not set.)
	register("sip:roamer@192.0.2.10:5060", 0)
	register("sip:roamer@198.51.100.4:5062", 0)
	if got, _ := call("301"); got.Code != radius.CodeAccessReject {
		t.Errorf("no contact left: %v, want a Reject", got.Code)
	}
	if _, err := s.Get(ctx, KindRegistrations, "roamer"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("registration after the last contact went: %v, want none", err)
	}
	if got := testutil.ToFloat64(p.requests.WithLabelValues("invite", resultUnregistered)); got != 1 {
		t.Errorf("unregistered = %v, want 1", got)
	}
	// "*" removes every contact.
	register("sip:a@192.0.2.1", 600)
	register("sip:b@192.0.2.2", 600)
	register(unregisterAll, 0)
	if _, err := s.Get(ctx, KindRegistrations, "roamer"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("after Contact *: %v, want no registration", err)
	}
}

func TestMergeRegistration(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(d)) }
	reg := func(contacts ...*firebrickv1.Contact) *firebrickv1.Registration {
		return &firebrickv1.Registration{User: "u", Contacts: contacts}
	}
	stored := reg(&firebrickv1.Contact{Uri: "sip:a@x", Expires: at(time.Minute)}, &firebrickv1.Contact{Uri: "sip:old@x", Expires: at(-time.Second)})
	m, err := mergeRegistration(stored, reg(&firebrickv1.Contact{Uri: "sip:a@x", Expires: at(time.Hour)}), now)
	if err != nil {
		t.Fatal(err)
	}
	got := m.(*firebrickv1.Registration).GetContacts()
	if len(got) != 1 || got[0].GetUri() != "sip:a@x" || !got[0].GetExpires().AsTime().Equal(now.Add(time.Hour)) {
		t.Errorf("renewed: %v, want sip:a@x for an hour, the lapsed one gone", got)
	}
	var many []*firebrickv1.Contact
	for i := range maxContacts + 4 {
		many = append(many, &firebrickv1.Contact{Uri: "sip:" + string(rune('a'+i)) + "@x", Expires: at(time.Duration(i+1) * time.Minute)})
	}
	m, err = mergeRegistration(nil, reg(many...), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*firebrickv1.Registration).GetContacts(); len(got) != maxContacts || got[0].GetUri() != "sip:t@x" {
		t.Errorf("%d contacts, first %s: want %d, the latest to lapse first", len(got), got[0].GetUri(), maxContacts)
	}
	if _, err := indexRegistration(reg(&firebrickv1.Contact{Uri: "tel:201", Expires: at(time.Minute)})); err == nil {
		t.Error("a tel: contact was indexed")
	}
}

// An edge may merge registrations, never write users or routes.
func TestMergeRefusesOtherKinds(t *testing.T) {
	s := service(t)
	err := s.Merge(context.Background(), KindUsers, "office1", &firebrickv1.User{Name: "office1"})
	if !errors.Is(err, records.ErrForbidden) {
		t.Errorf("merge of a user: %v, want ErrForbidden", err)
	}
}
