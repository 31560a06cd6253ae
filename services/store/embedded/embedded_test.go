package embedded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/store"
	"kradius.dev/services/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "kradius.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestOpenCreatesPrivateFileAndParents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "lib", "kradius", "store.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode = %v, want 0600", mode)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := store.Account{Name: "Persist", PasswordHash: "$argon2id$x", Type: 8, LoginGroup: "g"}
	err = s.Apply(t.Context(), store.Batch{
		Accounts: []store.Account{want},
		DIDs:     []store.DID{{Number: "100", Account: "persist", Enabled: true}},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	stored, err := s.GetAccount(t.Context(), "persist")
	if err != nil {
		t.Fatalf("GetAccount before reopen: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetAccount(t.Context(), "PERSIST")
	if err != nil {
		t.Fatalf("GetAccount after reopen: %v", err)
	}
	if !got.LastModified.Equal(stored.LastModified) {
		t.Errorf("LastModified after reopen = %v, want %v", got.LastModified, stored.LastModified)
	}
	got.LastModified = time.Time{}
	if got != want {
		t.Errorf("GetAccount after reopen = %+v, want %+v", got, want)
	}
	dids, err := s.DIDsForAccount(t.Context(), "persist")
	if err != nil || len(dids) != 1 || dids[0].Number != "100" {
		t.Errorf("DIDsForAccount after reopen = %+v, %v; want DID 100", dids, err)
	}
}

func TestSecondOpenNamesLockedPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	// bbolt's flock is per open file, so a second Open in this process
	// contends exactly as a second kradius process would.
	start := time.Now()
	second, err := Open(path)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("second Open error = %q, want it to name %s and say it is locked", err, path)
	}
	if waited := time.Since(start); waited > 5*lockTimeout {
		t.Errorf("second Open took %v, want about %v", waited, lockTimeout)
	}
}

func TestDIDsForAccountWithNULName(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kradius.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	// Account "a" owning number "b\x00c" has the index key "a\x00b\x00c",
	// which is also what a lookup of account "a\x00b" would scan for.
	if err := s.PutAccount(t.Context(), store.Account{Name: "a", PasswordHash: "h"}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	if err := s.PutDID(t.Context(), store.DID{Number: "b\x00c", Account: "a"}); err != nil {
		t.Fatalf("PutDID: %v", err)
	}
	dids, err := s.DIDsForAccount(t.Context(), "a\x00b")
	if err != nil || len(dids) != 0 {
		t.Errorf("DIDsForAccount(\"a\\x00b\") = %+v, %v; want none", dids, err)
	}
	if err := s.DeleteAccount(t.Context(), "a\x00b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteAccount(\"a\\x00b\") = %v, want ErrNotFound", err)
	}
}
