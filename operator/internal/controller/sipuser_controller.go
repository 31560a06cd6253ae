package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas/firebrick"
)

// SIPUserReconciler writes SIPUser resources through the admin service, as
// records of kind firebrick.users.
type SIPUserReconciler struct {
	client.Client
	Admin *AdminConns
}

// +kubebuilder:rbac:groups=kradius.dev,resources=sipusers;sipusers/status;sipusers/finalizers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// SetupWithManager registers the controller; a change to either of a
// SIPUser's Secrets requeues it.
func (r *SIPUserReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return (&recordReconciler[*kradiusv1.SIPUser]{Client: r.Client, Admin: r.Admin, k: sipUsers}).SetupWithManager(mgr)
}

var sipUsers = recordKind[*kradiusv1.SIPUser]{
	kind:      "SIPUser",
	store:     records.KindSIPUsers,
	keyField:  "spec.name",
	newObject: func() *kradiusv1.SIPUser { return &kradiusv1.SIPUser{} },
	newList:   func() client.ObjectList { return &kradiusv1.SIPUserList{} },
	cluster:   func(u *kradiusv1.SIPUser) string { return u.Spec.ClusterRef.Name },
	key:       records.SIPUserName,
	fold:      firebrick.Users.Schema.Fold,
	record:    sipUserRecord,
	secrets: func(u *kradiusv1.SIPUser) []string {
		var names []string
		for _, ref := range []*kradiusv1.SecretNameReference{u.Spec.PasswordsSecretRef, u.Spec.HA1SecretRef} {
			if ref != nil {
				names = append(names, ref.Name)
			}
		}
		return names
	},
	status: func(u *kradiusv1.SIPUser) (*[]metav1.Condition, *int64) {
		return &u.Status.Conditions, &u.Status.ObservedGeneration
	},
	written: func(u *kradiusv1.SIPUser, rec *recordsv1.Record) {
		u.Status.UserName = records.SIPUserName(u)
		var m firebrickv1.User
		if rec.GetValue().UnmarshalTo(&m) == nil {
			u.Status.Realms = slices.Sorted(maps.Keys(m.GetHa1()))
		}
	},
}

// sipUserRecord reads the user's Secrets and converts it: each password is
// hashed into its realm's HA1 here, so that no password leaves the
// operator.
func sipUserRecord(ctx context.Context, c client.Client, u *kradiusv1.SIPUser) (*recordsv1.Record, string, error) {
	passwords, pwVersion, err := realmSecret(ctx, c, u.Namespace, u.Spec.PasswordsSecretRef, "spec.passwordsSecretRef")
	if err != nil {
		return nil, "", err
	}
	ha1, ha1Version, err := realmSecret(ctx, c, u.Namespace, u.Spec.HA1SecretRef, "spec.ha1SecretRef")
	if err != nil {
		return nil, "", err
	}
	rec, err := records.SIPUser(u, passwords, ha1)
	if err != nil {
		return nil, "", err
	}
	return rec, "passwords=" + pwVersion + ",ha1=" + ha1Version, nil
}

// realmSecret reads a Secret whose keys are realms: its values, one
// trailing newline stripped (kubectl create secret --from-file keeps a
// file's), and its resourceVersion. A nil ref reads nothing.
func realmSecret(ctx context.Context, c client.Client, ns string, ref *kradiusv1.SecretNameReference, field string) (map[string]string, string, error) {
	if ref == nil {
		return nil, "", nil
	}
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", fmt.Errorf("%w: %s: Secret %q", errSecretNotFound, field, ref.Name)
		}
		return nil, "", err
	}
	out := make(map[string]string, len(s.Data))
	for realm, v := range s.Data {
		v := trimNewline(string(v))
		if v == "" {
			return nil, "", fmt.Errorf("%w: %s: Secret %q: realm %q is empty", errSecretNotFound, field, ref.Name, realm)
		}
		out[realm] = v
	}
	return out, s.ResourceVersion, nil
}

// trimNewline strips one trailing newline, \n or \r\n.
func trimNewline(s string) string {
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		return strings.TrimSuffix(t, "\r")
	}
	return s
}
