package boltfile

import (
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.db")
	db, err := Open("ledger", path, []byte("a"), []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("a")) == nil || tx.Bucket([]byte("b")) == nil {
			t.Error("buckets missing")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The file is locked: a second open fails, naming it.
	if _, err := Open("ledger", path); err == nil || !strings.Contains(err.Error(), "ledger "+path) {
		t.Errorf("second open: %v", err)
	}
	db.Close()
}
