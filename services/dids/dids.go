// Package dids answers the questions NAS profiles ask about DIDs and the
// called-numbers database. It runs in-process in -target=all and behind gRPC
// in -target=dids; its method set is the DIDService surface.
package dids

import (
	"context"
	"errors"
	"fmt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// Service looks DIDs and called numbers up in a store.
type Service struct {
	store fbdata.Store
}

// New returns a Service over s.
func New(s fbdata.Store) *Service { return &Service{store: s} }

// GetDID returns a DID by number.
func (s *Service) GetDID(ctx context.Context, number string) (fbdata.DID, error) {
	d, err := s.store.GetDID(ctx, number)
	if err != nil {
		return fbdata.DID{}, fmt.Errorf("dids: %w", err)
	}
	return d, nil
}

// GetMany is GetDID for each of numbers, item for item the same answers,
// read at once (fbdata.BatchReader).
func (s *Service) GetMany(ctx context.Context, numbers []string) ([]fbdata.DID, []error) {
	dids, errs := s.store.GetDIDs(ctx, numbers)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("dids: %w", err)
		}
	}
	return dids, errs
}

// DIDsForAccount lists an account's DIDs sorted by number. An unknown account
// has none; callers that must tell it apart ask Get.
func (s *Service) DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error) {
	dids, err := s.store.DIDsForAccount(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("dids: %w", err)
	}
	return dids, nil
}

// CalledNumber returns what is known of a dialled fax number, for
// call-ahead; an error wrapping fbdata.ErrNotFound for one never recorded.
func (s *Service) CalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error) {
	c, err := s.store.GetCalledNumber(ctx, number)
	if err != nil {
		return fbdata.CalledNumber{}, fmt.Errorf("dids: %w", err)
	}
	return c, nil
}

// RecordCalledNumber applies the FB-Called-Number-Result of one Accounting
// Stop to number (see fbdata.CalledNumber.Record).
func (s *Service) RecordCalledNumber(ctx context.Context, number string, result fbdata.CallResult) error {
	if err := s.store.RecordCalledNumber(ctx, number, result); err != nil {
		return fmt.Errorf("dids: %w", err)
	}
	return nil
}

// Route is a DID and the account it routes to: inbound routing's answer.
type Route struct {
	DID     fbdata.DID
	Account fbdata.Account
	// HasAccount is false only from a dids service older than routes (see
	// didsrpc.Client.Route): the caller then asks the accounts service.
	HasAccount bool
}

// ErrDanglingDID is a DID routing to an account that does not exist. The
// store keeps the two consistent, so this is a fault rather than an answer,
// and it does not wrap fbdata.ErrNotFound: it must never become an
// Access-Reject.
var ErrDanglingDID = errors.New("DID routes to an account that does not exist (inconsistent store)")

// Route returns a DID and the account it routes to.
func (s *Service) Route(ctx context.Context, number string) (Route, error) {
	routes, errs := s.RouteMany(ctx, []string{number})
	return routes[0], errs[0]
}

// RouteMany is Route for each of numbers, item for item the same answers,
// in two store reads: the DIDs, then their accounts.
func (s *Service) RouteMany(ctx context.Context, numbers []string) ([]Route, []error) {
	dids, errs := s.GetMany(ctx, numbers)
	routes := make([]Route, len(numbers))
	var names []string
	var at []int
	for i, d := range dids {
		if errs[i] == nil {
			routes[i].DID = d
			names = append(names, d.Account)
			at = append(at, i)
		}
	}
	if len(names) == 0 {
		return routes, errs
	}
	accounts, aerrs := s.store.GetAccounts(ctx, names)
	for j, i := range at {
		switch err := aerrs[j]; {
		case errors.Is(err, fbdata.ErrNotFound):
			errs[i] = fmt.Errorf("dids: DID %q routes to account %q: %w", numbers[i], names[j], ErrDanglingDID)
		case err != nil:
			errs[i] = fmt.Errorf("dids: account %q of DID %q: %w", names[j], numbers[i], err)
		default:
			routes[i].Account, routes[i].HasAccount = accounts[j], true
		}
	}
	return routes, errs
}
