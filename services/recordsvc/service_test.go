package recordsvc_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	genericv1 "kradius.dev/proto/kradius/generic/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/generic"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/embedded"
)

// cheap keeps argon2 fast under -race: the test is about the service.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func newService(t *testing.T) *recordsvc.Service {
	t.Helper()
	kinds := recordsvc.Kinds([]nas.Plugin{generic.Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return recordsvc.New(rs, kinds, password.NewVerifier(100, time.Minute), cheap)
}

func pap(pw string) *recordsv1.Credential {
	return &recordsv1.Credential{Method: &recordsv1.Credential_Pap{Pap: &recordsv1.Pap{Password: pw}}}
}

func chap(id byte, secret string, challenge []byte) *recordsv1.Credential {
	return &recordsv1.Credential{Method: &recordsv1.Credential_Chap{Chap: &recordsv1.Chap{
		Id: uint32(id), Challenge: challenge, Response: generic.CHAPResponse(id, secret, challenge),
	}}}
}

func TestPutGetVerify(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hash, err := password.Hash("s3cret", cheap)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(ctx, []recordsvc.Write{
		{Kind: generic.KindUsers, Value: &genericv1.User{Name: "Alice", PasswordHash: hash, ReplyMessage: "hi"}},
		{Kind: generic.KindUsers, Value: &genericv1.User{Name: "bob", ChapPassword: "chapsecret"}},
	})
	if err != nil {
		t.Fatal(err)
	}

	got, err := s.Get(ctx, generic.KindUsers, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if want := (&genericv1.User{Name: "Alice", ReplyMessage: "hi"}); !proto.Equal(got, want) {
		t.Errorf("Get: %v, want %v (secrets cleared)", got, want)
	}

	challenge := []byte("0123456789abcdef")
	for _, tc := range []struct {
		name, user string
		cred       *recordsv1.Credential
		want       error
	}{
		{"pap against the hash", "alice", pap("s3cret"), nil},
		{"wrong pap", "alice", pap("S3cret"), nas.ErrWrongCredential},
		{"chap without a chap password", "alice", chap(7, "s3cret", challenge), nas.ErrWrongCredential},
		{"chap", "Bob", chap(7, "chapsecret", challenge), nil},
		{"chap, wrong identifier", "bob", &recordsv1.Credential{Method: &recordsv1.Credential_Chap{Chap: &recordsv1.Chap{Id: 8, Challenge: challenge, Response: generic.CHAPResponse(7, "chapsecret", challenge)}}}, nas.ErrWrongCredential},
		{"chap, identifier out of range", "bob", &recordsv1.Credential{Method: &recordsv1.Credential_Chap{Chap: &recordsv1.Chap{Id: 263, Challenge: challenge, Response: generic.CHAPResponse(7, "chapsecret", challenge)}}}, nas.ErrWrongCredential},
		{"pap against the chap password", "bob", pap("chapsecret"), nil},
		{"no credential", "bob", &recordsv1.Credential{}, nas.ErrWrongCredential},
		{"unknown user", "carol", pap("x"), records.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := s.Verify(ctx, generic.KindUsers, tc.user, tc.cred)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if err == nil && (m.(*genericv1.User).GetPasswordHash() != "" || m.(*genericv1.User).GetChapPassword() != "") {
				t.Errorf("Verify returned secrets: %v", m)
			}
		})
	}
}

func TestBadWrites(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, tc := range []struct {
		name string
		w    recordsvc.Write
		want error
	}{
		{"unknown kind", recordsvc.Write{Kind: "generic.nope", Value: &genericv1.User{Name: "a", ChapPassword: "x"}}, records.ErrUnknownKind},
		{"no name", recordsvc.Write{Kind: generic.KindUsers, Value: &genericv1.User{ChapPassword: "x"}}, records.ErrInvalid},
		{"no password", recordsvc.Write{Kind: generic.KindUsers, Value: &genericv1.User{Name: "a"}}, records.ErrInvalid},
		{"bad hash", recordsvc.Write{Kind: generic.KindUsers, Value: &genericv1.User{Name: "a", PasswordHash: "plain"}}, records.ErrInvalid},
		{"another kind's message", recordsvc.Write{Kind: generic.KindUsers, Value: &recordsv1.Pap{Password: "x"}}, records.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each bad write comes with a good one: nothing of the call lands.
			err := s.Put(ctx, []recordsvc.Write{{Kind: generic.KindUsers, Value: &genericv1.User{Name: "good", ChapPassword: "x"}}, tc.w})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Put: %v, want %v", err, tc.want)
			}
			if _, err := s.Get(ctx, generic.KindUsers, "good"); !errors.Is(err, records.ErrNotFound) {
				t.Errorf("the good record of a refused call: %v, want not found", err)
			}
		})
	}
	if _, err := s.Get(ctx, "generic.nope", "a"); !errors.Is(err, records.ErrUnknownKind) {
		t.Errorf("Get of an unknown kind: %v", err)
	}
	if _, err := s.Get(ctx, generic.KindUsers, ""); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("Get of an empty key: %v", err)
	}
}

func TestDeleteAndList(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	var writes []recordsvc.Write
	for _, n := range []string{"c", "A", "b"} {
		writes = append(writes, recordsvc.Write{Kind: generic.KindUsers, Value: &genericv1.User{Name: n, ChapPassword: "pw-" + n}})
	}
	if err := s.Put(ctx, writes); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(ctx, generic.KindUsers, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Key != "a" || page[1].Key != "b" {
		t.Fatalf("first page: %v", page)
	}
	if u := page[0].Value.(*genericv1.User); u.GetChapPassword() != "" || u.GetName() != "A" {
		t.Errorf("listed %v: want name A, secrets cleared", u)
	}
	if rest, err := s.List(ctx, generic.KindUsers, "b", 2); err != nil || len(rest) != 1 || rest[0].Key != "c" {
		t.Fatalf("second page: %v, %v", rest, err)
	}
	if key, m, err := s.GetFirst(ctx, generic.KindUsers, []string{"nobody", "", "C", "a"}); err != nil || key != "c" || m.(*genericv1.User).GetName() != "c" || m.(*genericv1.User).GetChapPassword() != "" {
		t.Errorf("GetFirst: %q %v %v, want c, its secret cleared", key, m, err)
	}
	if _, _, err := s.GetFirst(ctx, generic.KindUsers, []string{"x", "y"}); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("GetFirst of none: %v", err)
	}
	if _, _, err := s.GetFirst(ctx, generic.KindUsers, make([]string, recordsvc.MaxFirstOf+1)); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("GetFirst of too many: %v", err)
	}
	if err := s.Delete(ctx, generic.KindUsers, "B"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, generic.KindUsers, "b"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("second delete: %v, want not found", err)
	}
}

// TestUnknownNameCostsARun: PAP for a name nobody has, or for a user with
// only a CHAP password, is refused after an argon2 run against the decoy,
// as a wrong password is, and cached as a real hash's check is, one entry
// for all the name's spellings. CHAP costs no run for anyone, and once the
// caller has given up nobody times the answer.
func TestUnknownNameCostsARun(t *testing.T) {
	ctx := context.Background()
	kinds := recordsvc.Kinds([]nas.Plugin{generic.Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	v := password.NewVerifier(100, time.Minute)
	s := recordsvc.New(rs, kinds, v, cheap)
	if err := s.Put(ctx, []recordsvc.Write{{Kind: generic.KindUsers, Value: &genericv1.User{Name: "bob", ChapPassword: "chapsecret"}}}); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name, key    string
		ctx          context.Context
		cred         *recordsv1.Credential
		want         error
		runs, cached uint64
	}{
		{"unknown, PAP", "nobody", ctx, pap("guess"), records.ErrNotFound, 1, 0},
		{"unknown, the same PAP again", "nobody", ctx, pap("guess"), records.ErrNotFound, 0, 1},
		{"unknown, another spelling", "NoBody", ctx, pap("guess"), records.ErrNotFound, 0, 1},
		{"CHAP only, PAP", "bob", ctx, pap("wrong"), nas.ErrWrongCredential, 1, 0},
		{"unknown, CHAP", "nobody", ctx, chap(1, "x", []byte("challenge")), records.ErrNotFound, 0, 0},
		{"the caller gone", "someone", cancelled, pap("guess"), context.Canceled, 0, 0},
	} {
		hits, misses := v.Stats()
		_, err := s.Verify(tc.ctx, generic.KindUsers, tc.key, tc.cred)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		h, m := v.Stats()
		if m-misses != tc.runs || h-hits != tc.cached {
			t.Errorf("%s: %d argon2 runs and %d cached answers, want %d and %d", tc.name, m-misses, h-hits, tc.runs, tc.cached)
		}
	}
}

// TestUnknownNameNotRefusedUnchecked: when the check an unknown name costs
// could not be made (an overloaded verifier), the answer is that error, as
// a known name's would be, not a NotFound that comes sooner.
func TestUnknownNameNotRefusedUnchecked(t *testing.T) {
	kinds := recordsvc.Kinds([]nas.Plugin{generic.Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	kinds[0].Verify = func(context.Context, proto.Message, *recordsv1.Credential, nas.Passwords) error {
		return password.ErrOverloaded
	}
	s := recordsvc.New(rs, kinds, password.NewVerifier(100, time.Minute), cheap)
	_, err = s.Verify(context.Background(), generic.KindUsers, "nobody", pap("guess"))
	if !errors.Is(err, password.ErrOverloaded) || errors.Is(err, records.ErrNotFound) {
		t.Errorf("unknown name, check not made: %v, want password.ErrOverloaded", err)
	}
}
