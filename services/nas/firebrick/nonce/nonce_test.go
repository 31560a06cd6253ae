package nonce

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

var key = bytes.Repeat([]byte{7}, MinKeyBytes)

func TestNonces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	edgeA, err := New(key, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	edgeB, _ := New(key, 30*time.Second) // another pod, the same shared key
	n, err := edgeA.Issue(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := edgeB.Check(n, now.Add(29*time.Second)); err != nil {
		t.Errorf("another edge, before expiry: %v", err)
	}
	if err := edgeB.Check(n, now.Add(30*time.Second)); !errors.Is(err, ErrStale) {
		t.Errorf("at expiry: %v, want stale", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, MinKeyBytes), 30*time.Second)
	if err := other.Check(n, now); !errors.Is(err, ErrForged) {
		t.Errorf("under another key: %v, want forged", err)
	}
	raw := []byte(n)
	raw[3] ^= 1
	for name, bad := range map[string]string{
		"a character changed": string(raw),
		"empty":               "",
		"truncated":           n[:len(n)-2],
		"not base64":          "!!!!",
	} {
		if err := edgeA.Check(bad, now); !errors.Is(err, ErrForged) {
			t.Errorf("%s: %v, want forged", name, err)
		}
	}
	if m, _ := edgeA.Issue(now); m == n {
		t.Error("two nonces issued at one second are the same")
	}
}

func TestNew(t *testing.T) {
	if _, err := New(key[:MinKeyBytes-1], time.Second); err == nil {
		t.Error("a short key was accepted")
	}
	if _, err := New(key, 0); err == nil {
		t.Error("a zero lifetime was accepted")
	}
}
