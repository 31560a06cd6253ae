package firebrick

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/store/records"
)

// KindRegistrations is the store name of the registrations kind.
const KindRegistrations = "firebrick.registrations"

// Registrations are the contacts of SIP users whose REGISTER Accept binds
// no tel: number: the FireBrick then does not record the registration, and
// kradius keeps it (seed), for the routes' "user:NAME" legs. The edge
// writes them (Schema.Merge); they live on the accounts target with the
// users.
var Registrations = nas.Kind{
	Name: "registrations",
	Key:  "user",
	Schema: &nas.Schema{
		Service: nas.ServiceAccounts,
		Message: &firebrickv1.Registration{},
		Fold:    strings.ToLower,
		Index:   indexRegistration,
		Merge:   mergeRegistration,
	},
}

// maxContacts bounds the devices of one user, so that a phone registering
// a new contact on every restart cannot grow a record without end: the
// contacts that lapse first go.
const maxContacts = 16

func indexRegistration(m proto.Message) (records.Record, error) {
	r := m.(*firebrickv1.Registration)
	if r.GetUser() == "" {
		return records.Record{}, errors.New("user: required")
	}
	if len(r.GetContacts()) > maxContacts {
		return records.Record{}, fmt.Errorf("registration %q: contacts: %d, at most %d", r.GetUser(), len(r.GetContacts()), maxContacts)
	}
	for i, c := range r.GetContacts() {
		if !validContact(c.GetUri()) {
			return records.Record{}, fmt.Errorf("registration %q: contacts[%d]: uri %q is not a sip: or sips: URI of at most 253 octets", r.GetUser(), i, c.GetUri())
		}
		if c.GetExpires() == nil {
			return records.Record{}, fmt.Errorf("registration %q: contacts[%d]: expires: required", r.GetUser(), i)
		}
	}
	return records.Record{Key: strings.ToLower(r.GetUser())}, nil
}

func validContact(uri string) bool {
	return len(uri) <= 253 && (strings.HasPrefix(uri, "sip:") && len(uri) > 4 || strings.HasPrefix(uri, "sips:") && len(uri) > 5)
}

// unregisterAll is the Contact of a REGISTER that removes every contact
// (RFC 3261 §10.2.2, with Expires 0).
const unregisterAll = "*"

// mergeRegistration applies a REGISTER's contacts to the stored ones: each
// replaces the contact with its URI, and one without an expiry (an Expires
// of 0) removes it; "*" removes them all. Lapsed contacts go, and with no
// contact left the record does. An unregistration names no time, so that
// it holds whatever the edge's and the store's clocks say.
func mergeRegistration(stored, update proto.Message, now time.Time) (proto.Message, error) {
	u := update.(*firebrickv1.Registration)
	live := func(c *firebrickv1.Contact) bool { return c.GetExpires().AsTime().After(now) }
	var contacts []*firebrickv1.Contact
	if s, ok := stored.(*firebrickv1.Registration); ok {
		contacts = s.GetContacts()
	}
	for _, c := range u.GetContacts() {
		if c.GetUri() == unregisterAll {
			contacts = nil
			continue
		}
		contacts = slices.DeleteFunc(contacts, func(old *firebrickv1.Contact) bool { return old.GetUri() == c.GetUri() })
		if c.GetExpires() != nil {
			contacts = append(contacts, c)
		}
	}
	contacts = slices.DeleteFunc(contacts, func(c *firebrickv1.Contact) bool { return !live(c) })
	if len(contacts) == 0 {
		return nil, nil
	}
	if len(contacts) > maxContacts {
		slices.SortStableFunc(contacts, func(a, b *firebrickv1.Contact) int {
			return b.GetExpires().AsTime().Compare(a.GetExpires().AsTime())
		})
		contacts = contacts[:maxContacts]
	}
	return &firebrickv1.Registration{User: u.GetUser(), Contacts: contacts}, nil
}

// register records the contact of a REGISTER whose Accept binds no tel:
// number, for expires from now (0: the phone unregisters it). A request
// without a contact has nothing to record.
func (a *approver) register(ctx context.Context, req *radius.Packet, user string, expires time.Duration) error {
	contact := string(req.Get(radius.Type(a.o.SIPAORAttribute)))
	if contact == "" {
		return nil
	}
	if contact != unregisterAll && !validContact(contact) {
		// Not a contact kradius can route to; the FireBrick accepted the
		// REGISTER, so the phone keeps its registration there.
		return nil
	}
	c := &firebrickv1.Contact{
		Uri: contact,
		Nas: strings.ToValidUTF8(rfc2865.NASIdentifier_GetString(req), "\uFFFD"), UserAgent: strings.ToValidUTF8(string(req.Get(rfc2865.Class_Type)), "\uFFFD"),
	}
	if expires > 0 {
		c.Expires = timestamppb.New(a.now().Add(expires))
	}
	r := &firebrickv1.Registration{User: user, Contacts: []*firebrickv1.Contact{c}}
	if err := a.records.Merge(ctx, KindRegistrations, user, r); err != nil {
		return fmt.Errorf("registering %q at %q: %w", user, contact, err)
	}
	return nil
}

// contacts are the live contacts of a SIP user that kradius keeps, in the
// order they registered; none if it has no registration.
func contacts(ctx context.Context, rs nas.Records, user string, now time.Time) ([]string, error) {
	m, err := rs.Get(ctx, KindRegistrations, user)
	switch {
	case errors.Is(err, records.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("registrations of %q: %w", user, err)
	}
	var out []string
	for _, c := range m.(*firebrickv1.Registration).GetContacts() {
		if c.GetExpires().AsTime().After(now) {
			out = append(out, c.GetUri())
		}
	}
	return out, nil
}
