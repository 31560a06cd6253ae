package controller

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		reason  string
		ok      bool
		requeue time.Duration
		retry   bool
	}{
		{"written", nil, kradiusv1.ReasonSynced, true, 0, false},
		{"invalid resource", fmt.Errorf("%w: spec.queueProfile: not well-formed", records.ErrInvalid), kradiusv1.ReasonInvalid, false, 0, false},
		{"store refuses a field", status.Error(codes.InvalidArgument, "name"), kradiusv1.ReasonInvalid, false, 0, false},
		{"relation missing", status.Error(codes.FailedPrecondition, "no account x"), kradiusv1.ReasonConflict, false, 30 * time.Second, false},
		{"another resource writes the record", fmt.Errorf("spec.pattern \"*\": %w", errDuplicate), kradiusv1.ReasonConflict, false, 30 * time.Second, false},
		{"secret missing", fmt.Errorf("%w: pw", errSecretNotFound), kradiusv1.ReasonSecretNotFound, false, 30 * time.Second, false},
		{"cluster missing", apierrors.NewNotFound(schema.GroupResource{Resource: "radiusclusters"}, "x"), kradiusv1.ReasonClusterNotFound, false, 30 * time.Second, false},
		{"backend down", status.Error(codes.Unavailable, "connection refused"), kradiusv1.ReasonUnavailable, false, 0, true},
		{"anything else", errors.New("boom"), kradiusv1.ReasonUnavailable, false, 0, true},
	} {
		o := classify(tc.err)
		if o.reason != tc.reason || o.ok != tc.ok || o.requeue != tc.requeue || o.retry != tc.retry {
			t.Errorf("%s: %+v", tc.name, o)
		}
	}
}

func TestReadyCondition(t *testing.T) {
	ready := []kradiusv1.ComponentStatus{{Name: "edge", Replicas: 2, ReadyReplicas: 2}, {Name: "cdr", Replicas: 0}}
	if c := readyCondition(ready, 3); c.Status != metav1.ConditionTrue || c.ObservedGeneration != 3 {
		t.Errorf("all ready: %+v", c)
	}
	notReady := append(ready, kradiusv1.ComponentStatus{Name: "accounts", Replicas: 2, ReadyReplicas: 1})
	if c := readyCondition(notReady, 3); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "accounts: 1 of 2") {
		t.Errorf("one not ready: %+v", c)
	}
}

func TestClientsDocument(t *testing.T) {
	mk := func(name string, cidrs ...kradiusv1.ClientCIDR) kradiusv1.RadiusClient {
		return kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: kradiusv1.RadiusClientSpec{CIDRs: cidrs}}
	}
	clients := []kradiusv1.RadiusClient{mk("b", "192.0.2.2"), mk("a", "192.0.2.1"), mk("no-secret", "192.0.2.3")}
	doc, err := clientsDocument(clients, map[string]string{"ns/a": "sa", "ns/b": "sb"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	if strings.Contains(s, "no-secret") || strings.Index(s, "ns/a") > strings.Index(s, "ns/b") || !strings.Contains(s, "profile: faxback") {
		t.Errorf("client table:\n%s", s)
	}
	again, _ := clientsDocument([]kradiusv1.RadiusClient{clients[1], clients[0]}, map[string]string{"ns/a": "sa", "ns/b": "sb"})
	if string(again) != s {
		t.Error("the same clients in another order render other bytes: every edge would reload for nothing")
	}
}

func TestClientConflicts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(name string, age int, cidrs []kradiusv1.ClientCIDR, ids ...kradiusv1.RadSecIdentity) kradiusv1.RadiusClient {
		c := kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Minute))},
			Spec: kradiusv1.RadiusClientSpec{CIDRs: cidrs}}
		if ids != nil {
			c.Spec.RadSec = &kradiusv1.ClientRadSec{Identities: ids}
		}
		return c
	}
	clients := []kradiusv1.RadiusClient{
		// Listed newest first: creation time decides, not the order.
		mk("free-again", 4, nil, "lost.example"),
		mk("same-name", 3, nil, "other.example", " NAS-A.Example"),
		mk("same-range", 2, []kradiusv1.ClientCIDR{"10.9.9.9/8"}, "lost.example"),
		mk("first", 1, []kradiusv1.ClientCIDR{"10.0.0.0/8", "10.0.0.1/8"}, "nas-a.example", "NAS-A.example"),
		// As old as first: the name breaks the tie, so aa wins.
		mk("aa", 1, []kradiusv1.ClientCIDR{"192.0.2.1"}),
		mk("ab", 1, []kradiusv1.ClientCIDR{"192.0.2.1/32"}),
	}
	got := clientConflicts(clients)
	want := map[string]string{
		"ns/same-range": `spec.cidrs[0]: 10.0.0.0/8 is also claimed by RadiusClient "first", created first`,
		"ns/same-name":  `spec.radsec.identities[1]: " NAS-A.Example" is also RadiusClient "first"'s`,
		"ns/ab":         `spec.cidrs[0]: 192.0.2.1/32 is also claimed by RadiusClient "aa"`,
	}
	if len(got) != len(want) {
		t.Errorf("conflicts %q, want %d of them", got, len(want))
	}
	for key, w := range want {
		if !strings.HasPrefix(got[key], w) {
			t.Errorf("%s: %q, want it to start %q", key, got[key], w)
		}
	}
	// A client left out claims nothing: free-again's name was only
	// same-range's, which is not in the table.
	if msg, ok := got["ns/free-again"]; ok {
		t.Errorf("free-again is refused (%s): a client left out must not block a third", msg)
	}
	slices.Reverse(clients)
	if again := clientConflicts(clients); !maps.Equal(again, got) {
		t.Errorf("in another order: %q, want %q", again, got)
	}
}

func TestRadSecOn(t *testing.T) {
	on := func(r *kradiusv1.EdgeRadSecSpec) bool {
		return radsecOn(&kradiusv1.RadiusCluster{Spec: kradiusv1.RadiusClusterSpec{Edge: kradiusv1.EdgeSpec{RadSec: r}}}) != nil
	}
	cert, ca := &kradiusv1.SecretNameReference{Name: "tls"}, &kradiusv1.CASecretReference{Name: "ca"}
	for _, c := range []struct {
		name string
		spec *kradiusv1.EdgeRadSecSpec
		want bool
	}{
		{"unset", nil, false},
		{"disabled, with its Secrets", &kradiusv1.EdgeRadSecSpec{CertificateSecretRef: cert, ClientCASecretRef: ca}, false},
		// The CRD refuses these; the operator renders no port it cannot
		// serve rather than a config the edge refuses.
		{"no certificate", &kradiusv1.EdgeRadSecSpec{Enabled: true, ClientCASecretRef: ca}, false},
		{"no client CA", &kradiusv1.EdgeRadSecSpec{Enabled: true, CertificateSecretRef: cert}, false},
		{"enabled", &kradiusv1.EdgeRadSecSpec{Enabled: true, CertificateSecretRef: cert, ClientCASecretRef: ca}, true},
	} {
		if got := on(c.spec); got != c.want {
			t.Errorf("%s: radsecOn %v, want %v", c.name, got, c.want)
		}
	}
}
