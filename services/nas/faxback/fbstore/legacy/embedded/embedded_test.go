package embedded

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbdata/fbdatatest"
)

func TestConformance(t *testing.T) {
	fbdatatest.Run(t, func(t *testing.T, o fbdata.Options) fbdata.Store {
		s, err := Open(filepath.Join(t.TempDir(), "kradius.db"), o)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesPrivateFileAndParents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "lib", "kradius", "store.db")
	s, err := Open(path, fbdata.Options{})
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
	s, err := Open(path, fbdata.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := fbdata.Account{Name: "Persist", PasswordHash: "$argon2id$x", Type: 4, LoginGroup: "G", MACAddress: "00908F1D37F0"}
	err = s.Apply(t.Context(), fbdata.Batch{
		Accounts: []fbdata.Account{want},
		DIDs:     []fbdata.DID{{Number: "100", Account: "persist", Disabled: true}},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.RecordCalledNumber(t.Context(), "5035550100", fbdata.CallVoiceError); err != nil {
		t.Fatalf("RecordCalledNumber: %v", err)
	}
	stored, err := s.GetAccount(t.Context(), "persist")
	if err != nil {
		t.Fatalf("GetAccount before reopen: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path, fbdata.Options{})
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
	got.LastModified, stored.LastModified = time.Time{}, time.Time{}
	if want.UUID = stored.UUID; !reflect.DeepEqual(got, want) {
		t.Errorf("GetAccount after reopen = %+v, want %+v", got, want)
	}
	if byMAC, err := s.AccountBy(t.Context(), fbdata.IndexMAC, "00908f1d37f0"); err != nil || byMAC.Name != "Persist" {
		t.Errorf("AccountBy(mac) after reopen = %+v, %v", byMAC, err)
	}
	dids, err := s.DIDsForAccount(t.Context(), "persist")
	if err != nil || len(dids) != 1 || dids[0].Number != "100" || !dids[0].Disabled {
		t.Errorf("DIDsForAccount after reopen = %+v, %v; want disabled DID 100", dids, err)
	}
	if c, err := s.GetCalledNumber(t.Context(), "5035550100"); err != nil || !c.VoiceError {
		t.Errorf("GetCalledNumber after reopen = %+v, %v; want the voice error", c, err)
	}
}

func TestReopenWithOtherOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	long, err := Open(path, fbdata.Options{LongNames: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	name := "a-name-longer-than-sixteen-bytes"
	if err := long.PutAccount(t.Context(), fbdata.Account{Name: name}); err != nil {
		t.Fatalf("PutAccount with long names: %v", err)
	}
	long.Close()

	short, err := Open(path, fbdata.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer short.Close()
	// What is stored is served; only new writes follow the new rule.
	if _, err := short.GetAccount(t.Context(), name); err != nil {
		t.Errorf("GetAccount of a long name after turning long names off: %v", err)
	}
	if err := short.PutAccount(t.Context(), fbdata.Account{Name: name}); !errors.Is(err, fbdata.ErrInvalid) {
		t.Errorf("PutAccount of a long name after turning long names off: %v, want ErrInvalid", err)
	}
}

func TestSecondOpenNamesLockedPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	s, err := Open(path, fbdata.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	// bbolt's flock is per open file, so a second Open in this process
	// contends exactly as a second kradius process would.
	start := time.Now()
	second, err := Open(path, fbdata.Options{})
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
	s := openTemp(t)
	// Account "a" owning number "b\x00c" has the index key "a\x00b\x00c",
	// which is also what a lookup of account "a\x00b" would scan for.
	if err := s.PutAccount(t.Context(), fbdata.Account{Name: "a"}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	if err := s.PutDID(t.Context(), fbdata.DID{Number: "b\x00c", Account: "a"}); err != nil {
		t.Fatalf("PutDID: %v", err)
	}
	dids, err := s.DIDsForAccount(t.Context(), "a\x00b")
	if err != nil || len(dids) != 0 {
		t.Errorf("DIDsForAccount(\"a\\x00b\") = %+v, %v; want none", dids, err)
	}
	if err := s.DeleteAccount(t.Context(), "a\x00b"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("DeleteAccount(\"a\\x00b\") = %v, want ErrNotFound", err)
	}
}

func TestCorruptIndexIsNotNotFound(t *testing.T) {
	s := openTemp(t)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketByIndex[fbdata.IndexMAC]).Put([]byte("00908F1D37F0"), []byte("vanished"))
	})
	if err != nil {
		t.Fatal(err)
	}
	// An index entry without its record must not become a Reject.
	_, err = s.AccountBy(t.Context(), fbdata.IndexMAC, "00908F1D37F0")
	if err == nil || errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("AccountBy through a dangling index entry = %v, want an error other than ErrNotFound", err)
	}
}

// writeV1 builds a file as the first release laid it out: no meta bucket,
// accounts without UUIDs, and DIDs with "enabled".
func writeV1(t *testing.T, path string) time.Time {
	t.Helper()
	modified := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	put := func(tx *bolt.Tx, bucket, key string, v any) {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			t.Fatal(err)
		}
		data := []byte{}
		if v != nil {
			if data, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Put([]byte(key), data); err != nil {
			t.Fatal(err)
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"Alice", "bob"} {
			put(tx, "accounts", strings.ToLower(name), map[string]any{
				"name": name, "passwordHash": "$argon2id$x", "type": 4, "loginGroup": "east", "lastModified": modified,
			})
		}
		put(tx, "dids", "100", map[string]any{"number": "100", "account": "alice", "enabled": true})
		put(tx, "dids", "200", map[string]any{"number": "200", "account": "bob", "enabled": false})
		put(tx, "did-by-account", "alice\x00100", nil)
		put(tx, "did-by-account", "bob\x00200", nil)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return modified
}

func TestMigrateV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	modified := writeV1(t, path)
	s, err := Open(path, fbdata.Options{})
	if err != nil {
		t.Fatalf("Open of a layout 1 file: %v", err)
	}
	ctx := t.Context()
	uuids := map[string]string{}
	for _, name := range []string{"alice", "bob"} {
		a, err := s.GetAccount(ctx, name)
		if err != nil {
			t.Fatalf("GetAccount(%s): %v", name, err)
		}
		if u, err := fbdata.ParseUUID(a.UUID); err != nil || fbdata.FormatUUID(u) != a.UUID {
			t.Errorf("%s: migrated UUID %q is not canonical", name, a.UUID)
		}
		if !a.LastModified.Equal(modified) || a.LoginGroup != "east" {
			t.Errorf("%s: LastModified %v, login group %q; want both kept", name, a.LastModified, a.LoginGroup)
		}
		if byUUID, err := s.AccountBy(ctx, fbdata.IndexUUID, a.UUID); err != nil || byUUID.Name != a.Name {
			t.Errorf("AccountBy(uuid %s) = %+v, %v; want %s", a.UUID, byUUID, err, a.Name)
		}
		uuids[name] = a.UUID
	}
	for number, disabled := range map[string]bool{"100": false, "200": true} {
		d, err := s.GetDID(ctx, number)
		if err != nil || d.Disabled != disabled {
			t.Errorf("GetDID(%s) = %+v, %v; want Disabled %t", number, d, err, disabled)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The migration ran once: reopening keeps the UUIDs it assigned.
	s, err = Open(path, fbdata.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	for name, want := range uuids {
		if a, err := s.GetAccount(ctx, name); err != nil || a.UUID != want {
			t.Errorf("after reopen, %s has UUID %q, %v; want %q", name, a.UUID, err, want)
		}
	}
	assertSchema(t, s, schemaVersion)
}

func assertSchema(t *testing.T, s *Store, want string) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		if got := string(tx.Bucket(bucketMeta).Get(keySchema)); got != want {
			t.Errorf("schema = %q, want %q", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	s, err := Open(path, fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertSchema(t, s, schemaVersion)
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("3")) })
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path, fbdata.Options{})
	if err == nil || !strings.Contains(err.Error(), `layout version "3"`) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open of a layout 3 file = %v, want an error naming the path and the version", err)
	}
}
