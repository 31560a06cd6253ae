package records

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/password"
)

// accountSamples are values the store accepts, by JSON name, for the spec
// fields it validates beyond what fieldtest.Fill's values pass.
var accountSamples = map[string]any{
	"uuid":            "05a32765-c400-4993-90d8-35289f96988a",
	"type":            9, // a group, so that members are allowed
	"rcvEmail":        "in@acme.example",
	"sndEmail":        "out@acme.example",
	"rcvFormat":       "pdf",
	"rcvFailoverMode": "always",
	"queueProfile":    `<QPXml Rf="0" />`,
	"callAheadMode":   "never",
	"uploadLogs":      "after-errors",
	"macAddress":      "00908F1D37F0",
	// The filled true is the default; only false reaches the store.
	"saveCDR":        false,
	"sendEnabled":    false,
	"receiveEnabled": false,
}

// accountJSONOnly are the fields, by JSON name, that do not reach the store
// under their own name.
var accountJSONOnly = fieldtest.Exceptions{
	"clusterRef":        "the resource's own: which cluster's store holds the account",
	"longName":          "the resource's own: read as the store's LongNames option when validating",
	"passwordSecretRef": "the Secret's value is hashed into passwordHash",
	"passwordHash":      "hashed from the password in passwordSecretRef's Secret",
	"lastModified":      "set by the store on every write",
	"saveCDR":           "inverted, into noSaveCDR (provision tests each inversion)",
	"sendEnabled":       "inverted, into sendDisabled",
	"receiveEnabled":    "inverted, into receiveDisabled",
	"noSaveCDR":         "from saveCDR, inverted",
	"sendDisabled":      "from sendEnabled, inverted",
	"receiveDisabled":   "from receiveEnabled, inverted",
}

var didSamples = map[string]any{
	"queueProfile": `<QPXml Op="1" />`,
	"enabled":      false,
}

var didJSONOnly = fieldtest.Exceptions{
	"clusterRef": "the resource's own: which cluster's store holds the DID",
	"enabled":    "inverted, into disabled",
	"disabled":   "from enabled, inverted",
}

// Every field of an Account's spec reaches the store under its own name, and
// every field of fbdata.Account comes from the spec: a field added to the
// CRD, the provisioning file or the store alone fails here.
func TestAccountSpecFields(t *testing.T) {
	var spec kradiusv1.AccountSpec
	fieldtest.Fill(t, &spec)
	spec = withSamples(t, spec, accountSamples)
	pw := "s3cret"
	a, err := Account(&kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: "meta"}, Spec: spec}, &pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	fieldtest.RequireSet(t, "Account", a, fieldtest.Exceptions{"LastModified": "set by the store on every write"})
	fieldtest.RequireSameJSON(t, "Account", spec, a, accountJSONOnly)
	if ok, err := password.Verify(a.PasswordHash, pw); !ok || err != nil {
		t.Errorf("PasswordHash %q does not verify the Secret's password: %v", a.PasswordHash, err)
	}
}

func TestDIDSpecFields(t *testing.T) {
	var spec kradiusv1.DIDSpec
	fieldtest.Fill(t, &spec)
	spec = withSamples(t, spec, didSamples)
	d, err := DID(&kradiusv1.DID{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	fieldtest.RequireSet(t, "DID", d, nil)
	fieldtest.RequireSameJSON(t, "DID", spec, d, didJSONOnly)
}

// withSamples returns spec with the fields of those JSON names replaced; a
// name the spec does not have fails the test.
func withSamples[T any](t *testing.T, spec T, samples map[string]any) T {
	t.Helper()
	m := fieldtest.JSONFields(t, spec)
	for name, v := range samples {
		if _, ok := m[name]; !ok {
			t.Fatalf("sample %q names no field of %T", name, spec)
		}
		m[name] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
