package controller

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	"kradius.dev/services/dids/didsrpc"
)

// DIDReconciler writes DID resources through the admin service.
type DIDReconciler struct {
	client.Client
	Admin *AdminConns
}

// +kubebuilder:rbac:groups=kradius.dev,resources=dids;dids/status;dids/finalizers,verbs=get;list;watch;update;patch

func (r *DIDReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var d kradiusv1.DID
	if err := r.Get(ctx, req.NamespacedName, &d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	addr, addrErr := adminAddress(ctx, r.Client, d.Namespace, d.Spec.ClusterRef.Name)
	if !d.DeletionTimestamp.IsZero() {
		if !controllerutil.ContainsFinalizer(&d, finalizer) {
			return ctrl.Result{}, nil
		}
		if addrErr == nil {
			admin, err := r.Admin.For(addr)
			if err == nil {
				_, err = admin.DeleteDID(ctx, &adminv1.DeleteDIDRequest{Number: d.Spec.Number})
			}
			if err != nil && status.Code(err) != codes.NotFound {
				return ctrl.Result{}, err
			}
		} else if !apierrors.IsNotFound(addrErr) {
			return ctrl.Result{}, addrErr
		}
		controllerutil.RemoveFinalizer(&d, finalizer)
		return ctrl.Result{}, r.Update(ctx, &d)
	}
	if controllerutil.AddFinalizer(&d, finalizer) {
		if err := r.Update(ctx, &d); err != nil {
			return ctrl.Result{}, err
		}
	}
	if c := meta.FindStatusCondition(d.Status.Conditions, kradiusv1.ConditionSynced); c != nil && c.Status == "True" && c.ObservedGeneration == d.Generation {
		return ctrl.Result{}, nil
	}
	err := addrErr
	if err == nil {
		err = r.write(ctx, &d, addr)
	}
	res, rerr := classify(err).apply(&d.Status.Conditions, d.Generation, err)
	d.Status.ObservedGeneration = d.Generation
	if serr := r.Status().Update(ctx, &d); serr != nil {
		return ctrl.Result{}, serr
	}
	return res, rerr
}

func (r *DIDReconciler) write(ctx context.Context, d *kradiusv1.DID, addr string) error {
	rec, err := records.DID(d)
	if err != nil {
		return err
	}
	admin, err := r.Admin.For(addr)
	if err != nil {
		return err
	}
	_, err = admin.PutDID(ctx, &adminv1.PutDIDRequest{Did: didsrpc.ToProto(rec)})
	return err
}

// SetupWithManager registers the controller.
func (r *DIDReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&kradiusv1.DID{}).Named("did").Complete(r)
}
