package controller

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	kradiusadmin "kradius.dev/services/admin"
	"kradius.dev/services/password"
)

// deletionRetry is how soon a blocked deletion is tried again.
const deletionRetry = 3 * time.Second

// finalizer deletes the store record before the resource goes.
const finalizer = "kradius.dev/store-record"

// syncedSecretAnnotation holds the password Secret's resourceVersion last
// written, so that a password change is written and nothing else is:
// rewriting would re-hash (a new salt) and move LastModified, which port
// servers read as "this group changed".
const syncedSecretAnnotation = "kradius.dev/synced-secret-version"

// AccountReconciler writes Account resources through the admin service.
type AccountReconciler struct {
	client.Client
	Admin  *AdminConns
	Params password.Params
}

// +kubebuilder:rbac:groups=kradius.dev,resources=accounts;accounts/status;accounts/finalizers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

func (r *AccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var a kradiusv1.Account
	if err := r.Get(ctx, req.NamespacedName, &a); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	name := records.AccountName(&a)
	if !a.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &a, name)
	}
	if controllerutil.AddFinalizer(&a, finalizer) {
		if err := r.Update(ctx, &a); err != nil {
			return ctrl.Result{}, err
		}
	}
	pw, secretVersion, err := r.password(ctx, &a)
	if err == nil && r.upToDate(&a, secretVersion) {
		return ctrl.Result{}, nil
	}
	if err == nil {
		err = r.write(ctx, &a, pw)
	}
	res, rerr := classify(err).apply(&a.Status.Conditions, a.Generation, err)
	a.Status.ObservedGeneration = a.Generation
	if serr := r.Status().Update(ctx, &a); serr != nil {
		return ctrl.Result{}, serr
	}
	if err == nil && a.Annotations[syncedSecretAnnotation] != secretVersion {
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		a.Annotations[syncedSecretAnnotation] = secretVersion
		if uerr := r.Update(ctx, &a); uerr != nil {
			return ctrl.Result{}, uerr
		}
	}
	return res, rerr
}

// upToDate: this generation and this password are already in the store.
func (r *AccountReconciler) upToDate(a *kradiusv1.Account, secretVersion string) bool {
	c := meta.FindStatusCondition(a.Status.Conditions, kradiusv1.ConditionSynced)
	return c != nil && c.Status == "True" && c.ObservedGeneration == a.Generation && a.Annotations[syncedSecretAnnotation] == secretVersion
}

// password reads the account's password Secret, if it names one.
func (r *AccountReconciler) password(ctx context.Context, a *kradiusv1.Account) (*string, string, error) {
	ref := a.Spec.PasswordSecretRef
	if ref == nil {
		return nil, "", nil
	}
	var s corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", fmt.Errorf("%w: %s", errSecretNotFound, ref.Name)
		}
		return nil, "", err
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		return nil, "", fmt.Errorf("%w: %s has no key %q", errSecretNotFound, ref.Name, ref.Key)
	}
	pw := string(v)
	return &pw, s.ResourceVersion, nil
}

func (r *AccountReconciler) write(ctx context.Context, a *kradiusv1.Account, pw *string) error {
	rec, err := records.Account(a, pw, r.Params)
	if err != nil {
		return err
	}
	admin, err := r.admin(ctx, a.Namespace, a.Spec.ClusterRef.Name)
	if err != nil {
		return err
	}
	_, err = admin.PutAccount(ctx, &adminv1.PutAccountRequest{Record: kradiusadmin.ToRecord(rec)})
	return err
}

func (r *AccountReconciler) admin(ctx context.Context, ns, cluster string) (adminv1.AdminServiceClient, error) {
	addr, err := adminAddress(ctx, r.Client, ns, cluster)
	if err != nil {
		return nil, err
	}
	return r.Admin.For(addr)
}

// finalize removes the account from the store, then the finalizer. When the
// cluster itself is gone there is no store left to clean.
func (r *AccountReconciler) finalize(ctx context.Context, a *kradiusv1.Account, name string) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(a, finalizer) {
		return ctrl.Result{}, nil
	}
	admin, err := r.admin(ctx, a.Namespace, a.Spec.ClusterRef.Name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return ctrl.Result{}, err
	default:
		_, err = admin.DeleteAccount(ctx, &adminv1.DeleteAccountRequest{Name: name})
		if err != nil && status.Code(err) != codes.NotFound {
			// Still owning DIDs, or the backend is down: say so and retry.
			res, rerr := classify(err).apply(&a.Status.Conditions, a.Generation, err)
			_ = r.Status().Update(ctx, a)
			if rerr == nil {
				// The DIDs being deleted with it usually go within seconds.
				res.RequeueAfter = deletionRetry
			}
			return res, rerr
		}
	}
	controllerutil.RemoveFinalizer(a, finalizer)
	return ctrl.Result{}, r.Update(ctx, a)
}

// SetupWithManager registers the controller; a change to a Secret requeues
// the Accounts whose password it holds.
func (r *AccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &kradiusv1.Account{}, passwordSecretField, func(o client.Object) []string {
		if ref := o.(*kradiusv1.Account).Spec.PasswordSecretRef; ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&kradiusv1.Account{}).
		Watches(&corev1.Secret{}, enqueueAccountsOfSecret(mgr.GetClient())).
		Named("account").
		Complete(r)
}
