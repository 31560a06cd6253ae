// Package dids answers the questions NAS profiles ask about DIDs and the
// called-numbers database. It runs in-process in -target=all and behind gRPC
// in -target=dids; its method set is the DIDService surface.
package dids

import (
	"context"
	"fmt"

	"kradius.dev/services/store"
)

// Service looks DIDs and called numbers up in a store.
type Service struct {
	store store.Store
}

// New returns a Service over s.
func New(s store.Store) *Service { return &Service{store: s} }

// GetDID returns a DID by number.
func (s *Service) GetDID(ctx context.Context, number string) (store.DID, error) {
	d, err := s.store.GetDID(ctx, number)
	if err != nil {
		return store.DID{}, fmt.Errorf("dids: %w", err)
	}
	return d, nil
}

// GetMany is GetDID for each of numbers, item for item the same answers,
// read at once (store.BatchReader).
func (s *Service) GetMany(ctx context.Context, numbers []string) ([]store.DID, []error) {
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
func (s *Service) DIDsForAccount(ctx context.Context, name string) ([]store.DID, error) {
	dids, err := s.store.DIDsForAccount(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("dids: %w", err)
	}
	return dids, nil
}

// CalledNumber returns what is known of a dialled fax number, for
// call-ahead; an error wrapping store.ErrNotFound for one never recorded.
func (s *Service) CalledNumber(ctx context.Context, number string) (store.CalledNumber, error) {
	c, err := s.store.GetCalledNumber(ctx, number)
	if err != nil {
		return store.CalledNumber{}, fmt.Errorf("dids: %w", err)
	}
	return c, nil
}

// RecordCalledNumber applies the FB-Called-Number-Result of one Accounting
// Stop to number (see store.CalledNumber.Record).
func (s *Service) RecordCalledNumber(ctx context.Context, number string, result store.CallResult) error {
	if err := s.store.RecordCalledNumber(ctx, number, result); err != nil {
		return fmt.Errorf("dids: %w", err)
	}
	return nil
}
