package records

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/services/password"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func TestAccount(t *testing.T) {
	pw := "s3cret"
	no := false
	a := &kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: "carol"}, Spec: kradiusv1.AccountSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Type: 4, SendEnabled: &no, MACAddress: "00:90:8f:1d:37:f0",
	}}
	got, err := Account(a, &pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "carol" || got.Type != 4 || !got.SendDisabled || got.MACAddress != "00908F1D37F0" {
		t.Errorf("converted: %+v", got)
	}
	if ok, _ := password.Verify(got.PasswordHash, "s3cret"); !ok {
		t.Error("password not hashed")
	}
	a.Spec.Name = "Carol_Fax"
	if got, _ := Account(a, nil, cheap); got.Name != "Carol_Fax" || got.PasswordHash != "" {
		t.Errorf("spec.name and no password: %+v", got)
	}
}

func TestInvalid(t *testing.T) {
	for name, tc := range map[string]struct {
		a    kradiusv1.AccountSpec
		meta string
		want string
	}{
		"queue profile": {kradiusv1.AccountSpec{QueueProfile: "<QPXml"}, "x", "spec.queueProfile:"},
		"long name":     {kradiusv1.AccountSpec{}, "this-name-is-far-too-long", "spec.name:"},
	} {
		_, err := Account(&kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: tc.meta}, Spec: tc.a}, nil, cheap)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid naming %s", name, err, tc.want)
		}
	}
	if _, err := DID(&kradiusv1.DID{Spec: kradiusv1.DIDSpec{Number: "", Account: "a"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("DID without number: %v", err)
	}
}
