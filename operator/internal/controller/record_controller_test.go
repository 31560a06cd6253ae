package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/firebrick/digest"
	storerecords "kradius.dev/services/store/records"
)

// stored reads a record as the admin service wrote it, secrets included,
// by its key as the store keeps it (folded).
func stored(kind, key string, m proto.Message) error {
	b, err := testRecords.Get(context.Background(), kind, key)
	if err != nil {
		return err
	}
	return proto.Unmarshal(b, m)
}

// gone says a record is not in the store.
func gone(kind, key string) bool {
	_, err := testRecords.Get(context.Background(), kind, key)
	return errors.Is(err, storerecords.ErrNotFound)
}

// syncedAs waits for obj's Synced condition to have status st and reason,
// and returns it.
func syncedAs(t *testing.T, obj client.Object, conds func() []metav1.Condition, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var c metav1.Condition
	eventually.NoError(t, obj.GetName()+" Synced="+string(st)+" "+reason, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		got := synced(conds())
		if got == nil || got.Status != st || got.Reason != reason || got.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("generation %d, Synced %+v", obj.GetGeneration(), got)
		}
		c = *got
		return nil
	})
	return c
}

// deleted deletes obj and waits until the API server no longer has it:
// its finalizer has run.
func deleted(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, obj.GetName()+" deleted", func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	})
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("%s: %v", obj.GetName(), err)
	}
}

func TestSIPUserSync(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "prod")
	ctx := context.Background()
	legacyHA1 := digest.HA1("Alice", "legacy.example.com", "old")
	pw := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "alice-pw", Namespace: ns}, Data: map[string][]byte{"sip.example.com": []byte("s3cret\n")}}
	ha1 := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "alice-ha1", Namespace: ns}, Data: map[string][]byte{"legacy.example.com": []byte(legacyHA1)}}
	create(t, pw)
	create(t, ha1)
	u := &kradiusv1.SIPUser{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns}, Spec: kradiusv1.SIPUserSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Name: "Alice", Extension: "201", DDI: []kradiusv1.SIPNumber{"+441632960001"},
		Methods:            []kradiusv1.SIPMethod{"REGISTER", "INVITE"},
		PasswordsSecretRef: &kradiusv1.SecretNameReference{Name: "alice-pw"}, HA1SecretRef: &kradiusv1.SecretNameReference{Name: "alice-ha1"},
	}}
	create(t, u)
	conds := func() []metav1.Condition { return u.Status.Conditions }
	syncedAs(t, u, conds, metav1.ConditionTrue, kradiusv1.ReasonSynced)
	if u.Status.UserName != "Alice" || !slices.Equal(u.Status.Realms, []string{"legacy.example.com", "sip.example.com"}) {
		t.Errorf("status: userName %q, realms %q", u.Status.UserName, u.Status.Realms)
	}

	// The store holds HA1 = MD5(name:realm:password), the name as given
	// and the Secret's trailing newline stripped, and never the password.
	var got firebrickv1.User
	if err := stored(records.KindSIPUsers, "alice", &got); err != nil {
		t.Fatal(err)
	}
	if want := digest.HA1("Alice", "sip.example.com", "s3cret"); got.GetHa1()["sip.example.com"] != want || got.GetHa1()["legacy.example.com"] != legacyHA1 {
		t.Errorf("ha1 %v, want sip.example.com %s and the legacy HA1 as given", got.GetHa1(), want)
	}
	if got.GetName() != "Alice" || got.GetExtension() != "201" || !slices.Equal(got.GetDdi(), []string{"+441632960001"}) || len(got.GetMethods()) != 2 {
		t.Errorf("stored user: %v", &got)
	}
	raw, _ := testRecords.Get(ctx, records.KindSIPUsers, "alice")
	if bytes.Contains(raw, []byte("s3cret")) {
		t.Error("the clear-text password reached the store")
	}
	// The admin API lists the user, its HA1s cleared.
	admin, err := (&AdminConns{}).For(adminAddr)
	if err != nil {
		t.Fatal(err)
	}
	list, err := admin.ListRecords(ctx, &recordsv1.ListRecordsRequest{Kind: records.KindSIPUsers})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list.GetRecords(), func(r *recordsv1.Record) bool { return r.GetKey() == "alice" }); i < 0 {
		t.Errorf("ListRecords: no alice in %v", list.GetRecords())
	}

	// A password change in the Secret reaches the store.
	pw.Data["sip.example.com"] = []byte("n3w")
	if err := k8s.Update(ctx, pw); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "new HA1 in the store", func() bool {
		var u firebrickv1.User
		return stored(records.KindSIPUsers, "alice", &u) == nil && u.GetHa1()["sip.example.com"] == digest.HA1("Alice", "sip.example.com", "n3w")
	})

	deleted(t, u)
	if !gone(records.KindSIPUsers, "alice") {
		t.Error("the user is still in the store")
	}
}

func TestSIPUserSyncedFalse(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "prod")
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad-ha1", Namespace: ns}, Data: map[string][]byte{"sip.example.com": []byte("not-hex")}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pw", Namespace: ns}, Data: map[string][]byte{"sip.example.com": []byte("x")}})
	for _, tc := range []struct {
		name, reason, message string
		spec                  kradiusv1.SIPUserSpec
	}{
		// The store checks what the CRD cannot see, a Secret's values, and
		// the operator reports the admin API's refusal.
		{"bad-ha1", kradiusv1.ReasonInvalid, `ha1["sip.example.com"]: not 32 hex digits`,
			kradiusv1.SIPUserSpec{HA1SecretRef: &kradiusv1.SecretNameReference{Name: "bad-ha1"}}},
		{"both", kradiusv1.ReasonInvalid, `realm "sip.example.com" is in both Secrets`,
			kradiusv1.SIPUserSpec{PasswordsSecretRef: &kradiusv1.SecretNameReference{Name: "pw"}, HA1SecretRef: &kradiusv1.SecretNameReference{Name: "bad-ha1"}}},
		{"no-secret", kradiusv1.ReasonSecretNotFound, `spec.passwordsSecretRef: Secret "missing"`,
			kradiusv1.SIPUserSpec{PasswordsSecretRef: &kradiusv1.SecretNameReference{Name: "missing"}}},
	} {
		tc.spec.ClusterRef = kradiusv1.ClusterReference{Name: "prod"}
		u := &kradiusv1.SIPUser{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: ns}, Spec: tc.spec}
		create(t, u)
		c := syncedAs(t, u, func() []metav1.Condition { return u.Status.Conditions }, metav1.ConditionFalse, tc.reason)
		if !strings.Contains(c.Message, tc.message) {
			t.Errorf("%s: message %q, want it to say %q", tc.name, c.Message, tc.message)
		}
		deleted(t, u)
	}
}

func TestSIPRouteSync(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "prod")
	ctx := context.Background()
	r := &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "uk", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Pattern: "+4416329600*",
		Legs: []kradiusv1.SIPRouteLeg{
			{Target: "tel:201"},
			{Target: "@carrierA", DelaySeconds: 15, Dialled: "01632960000", CLI: "Anonymous", RecordingEmails: []string{"rec@example.com"}},
		},
	}}
	create(t, r)
	conds := func() []metav1.Condition { return r.Status.Conditions }
	syncedAs(t, r, conds, metav1.ConditionTrue, kradiusv1.ReasonSynced)
	var got firebrickv1.Route
	if err := stored(records.KindSIPRoutes, "+4416329600*", &got); err != nil {
		t.Fatal(err)
	}
	if l := got.GetLegs(); len(l) != 2 || l[0].GetTarget() != "tel:201" || l[1].GetDelaySeconds() != 15 || l[1].GetDialled() != "01632960000" || l[1].GetCli() != "Anonymous" {
		t.Errorf("stored route: %v", &got)
	}

	// The pattern is the record's key: it cannot change.
	moved := r.DeepCopy()
	moved.Spec.Pattern = "+44*"
	if err := k8s.Update(ctx, moved); !apierrors.IsInvalid(err) {
		t.Errorf("changing the pattern: %v; want the API server to refuse it", err)
	}

	// A second route with the pattern would overwrite the first's record:
	// it waits, says why, and writes once the first goes.
	again := &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "uk-again", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Pattern: "+4416329600*", RejectMessage: "closed",
	}}
	create(t, again)
	c := syncedAs(t, again, func() []metav1.Condition { return again.Status.Conditions }, metav1.ConditionFalse, kradiusv1.ReasonConflict)
	if !strings.Contains(c.Message, `SIPRoute "uk", created first`) {
		t.Errorf("Conflict message %q does not name the route writing the record", c.Message)
	}
	if err := stored(records.KindSIPRoutes, "+4416329600*", &got); err != nil || len(got.GetLegs()) != 2 {
		t.Errorf("the duplicate overwrote the record: %v %v", &got, err)
	}
	deleted(t, r)
	syncedAs(t, again, func() []metav1.Condition { return again.Status.Conditions }, metav1.ConditionTrue, kradiusv1.ReasonSynced)
	eventually.True(t, "the second route's record", func() bool {
		var got firebrickv1.Route
		return stored(records.KindSIPRoutes, "+4416329600*", &got) == nil && len(got.GetLegs()) == 0 && got.GetRejectMessage() == "closed"
	})
	deleted(t, again)
	if !gone(records.KindSIPRoutes, "+4416329600*") {
		t.Error("the route is still in the store")
	}

	// A target of the right shape but with a bad number: the admin API
	// refuses it, and its message names the leg.
	bad := &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "bad-tel", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Pattern: "*", Legs: []kradiusv1.SIPRouteLeg{{Target: "tel:12ab"}},
	}}
	create(t, bad)
	c = syncedAs(t, bad, func() []metav1.Condition { return bad.Status.Conditions }, metav1.ConditionFalse, kradiusv1.ReasonInvalid)
	if !strings.Contains(c.Message, `legs[0]: target: "tel:12ab"`) {
		t.Errorf("Invalid message %q does not name the leg", c.Message)
	}
	deleted(t, bad)
}

func TestCarrierSync(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "prod")
	c := &kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "carrier-a", Namespace: ns}, Spec: kradiusv1.CarrierSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Name: "CarrierA", CUI: "carrier-a",
		SourceCIDRs: []kradiusv1.CarrierCIDR{"198.51.100.0/24", "2001:db8::/48"}, RejectMessage: "not now",
	}}
	create(t, c)
	syncedAs(t, c, func() []metav1.Condition { return c.Status.Conditions }, metav1.ConditionTrue, kradiusv1.ReasonSynced)
	if c.Status.CarrierName != "CarrierA" {
		t.Errorf("status.carrierName %q", c.Status.CarrierName)
	}
	var got carrierv1.Carrier
	if err := stored(records.KindCarriers, "carriera", &got); err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "CarrierA" || got.GetCui() != "carrier-a" || len(got.GetSourceCidrs()) != 2 || got.GetRejectMessage() != "not now" {
		t.Errorf("stored carrier: %v", &got)
	}

	// A CIDR with host bits passes the CRD's isCIDR; the admin API refuses
	// it, naming the network meant.
	bad := &kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "host-bits", Namespace: ns}, Spec: kradiusv1.CarrierSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, SourceCIDRs: []kradiusv1.CarrierCIDR{"10.0.0.1/8"},
	}}
	create(t, bad)
	cond := syncedAs(t, bad, func() []metav1.Condition { return bad.Status.Conditions }, metav1.ConditionFalse, kradiusv1.ReasonInvalid)
	if !strings.Contains(cond.Message, `sourceCidrs[0]: "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)`) {
		t.Errorf("Invalid message %q", cond.Message)
	}
	deleted(t, bad)

	deleted(t, c)
	if !gone(records.KindCarriers, "carriera") {
		t.Error("the carrier is still in the store")
	}
}

// A resource whose cluster does not exist says so, and its deletion is not
// held up by the store it cannot reach.
func TestRecordClusterNotFound(t *testing.T) {
	ns := namespace(t)
	r := &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "nowhere", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "nowhere"}, Pattern: "*",
	}}
	create(t, r)
	syncedAs(t, r, func() []metav1.Condition { return r.Status.Conditions }, metav1.ConditionFalse, kradiusv1.ReasonClusterNotFound)
	deleted(t, r)
}
