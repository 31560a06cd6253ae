package records

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kradiusv1 "kradius.dev/api/v1alpha1"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/nas/firebrick/digest"
)

// Every field of a profile resource's spec reaches its record under its own
// JSON name (the import format's), and every field of the record comes from
// the spec: a field added to the CRD or to the message alone fails here. A
// Dialogic field added to Carrier fails until the CRD has it too.
func TestProfileSpecFields(t *testing.T) {
	var user kradiusv1.SIPUserSpec
	fieldtest.Fill(t, &user)
	var route kradiusv1.SIPRouteSpec
	fieldtest.Fill(t, &route)
	var carrier kradiusv1.CarrierSpec
	fieldtest.Fill(t, &carrier)
	for _, tc := range []struct {
		name         string
		spec         any
		convert      func() (*recordsv1.Record, error)
		kind         string
		msg          proto.Message
		resourceOnly []string // spec fields that do not reach the record under their name
		recordOnly   []string // record fields that come from elsewhere
	}{
		{"SIPUser", user, func() (*recordsv1.Record, error) {
			return SIPUser(&kradiusv1.SIPUser{Spec: user}, map[string]string{"a.example": "pw"}, map[string]string{"b.example": strings.Repeat("0f", 16)})
		}, KindSIPUsers, &firebrickv1.User{}, []string{"clusterRef", "passwordsSecretRef", "ha1SecretRef"}, []string{"ha1"}},
		{"SIPRoute", route, func() (*recordsv1.Record, error) { return SIPRoute(&kradiusv1.SIPRoute{Spec: route}) },
			KindSIPRoutes, &firebrickv1.Route{}, []string{"clusterRef"}, nil},
		{"Carrier", carrier, func() (*recordsv1.Record, error) { return Carrier(&kradiusv1.Carrier{Spec: carrier}) },
			KindCarriers, &carrierv1.Carrier{}, []string{"clusterRef"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := tc.convert()
			if err != nil {
				t.Fatal(err)
			}
			if rec.GetKind() != tc.kind {
				t.Errorf("kind %q, want %q", rec.GetKind(), tc.kind)
			}
			if err := rec.GetValue().UnmarshalTo(tc.msg); err != nil {
				t.Fatal(err)
			}
			fieldtest.RequireSet(t, tc.name, tc.msg, nil)
			b, err := protojson.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			want := fieldtest.JSONFields(t, tc.spec)
			for _, f := range tc.resourceOnly {
				delete(want, f)
			}
			for _, f := range tc.recordOnly {
				delete(got, f)
			}
			for _, f := range slices.Sorted(maps.Keys(want)) {
				if !reflect.DeepEqual(got[f], want[f]) {
					t.Errorf("%s: the record has %v, the spec %v", f, got[f], want[f])
				}
			}
			for _, f := range slices.Sorted(maps.Keys(got)) {
				if _, ok := want[f]; !ok {
					t.Errorf("the record's %s comes from no spec field", f)
				}
			}
		})
	}
}

func TestSIPUser(t *testing.T) {
	u := &kradiusv1.SIPUser{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: kradiusv1.SIPUserSpec{Extension: "201"}}
	rec, err := SIPUser(u, map[string]string{"sip.example.com": "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m firebrickv1.User
	if err := rec.GetValue().UnmarshalTo(&m); err != nil {
		t.Fatal(err)
	}
	if m.GetName() != "alice" || m.GetHa1()["sip.example.com"] != digest.HA1("alice", "sip.example.com", "s3cret") {
		t.Errorf("metadata.name as the user name, and the HA1 of its password: %v", &m)
	}
	if strings.Contains(rec.String(), "s3cret") {
		t.Error("the record carries the clear-text password")
	}
	_, err = SIPUser(u, map[string]string{"r": "pw"}, map[string]string{"r": strings.Repeat("0", 32)})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `realm "r" is in both Secrets`) {
		t.Errorf("a realm in both Secrets: %v", err)
	}
}

func TestNames(t *testing.T) {
	if got := CarrierName(&kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "carrier-a"}}); got != "carrier-a" {
		t.Errorf("CarrierName without spec.name: %q", got)
	}
	if got := CarrierName(&kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "carrier-a"}, Spec: kradiusv1.CarrierSpec{Name: "CarrierA"}}); got != "CarrierA" {
		t.Errorf("CarrierName: %q", got)
	}
	if got := SIPUserName(&kradiusv1.SIPUser{ObjectMeta: metav1.ObjectMeta{Name: "alice"}, Spec: kradiusv1.SIPUserSpec{Name: "Alice"}}); got != "Alice" {
		t.Errorf("SIPUserName: %q", got)
	}
}
