package controller

import (
	"errors"
	"fmt"
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
