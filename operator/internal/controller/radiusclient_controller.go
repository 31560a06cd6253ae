package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
)

// RadiusClientReconciler reports whether a RadiusClient can be served: its
// cluster and secret exist. The RadiusCluster controller writes the client
// table that the edges load.
type RadiusClientReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=kradius.dev,resources=radiusclients/status,verbs=get;update;patch

func (r *RadiusClientReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var c kradiusv1.RadiusClient
	if err := r.Get(ctx, req.NamespacedName, &c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cond := metav1.Condition{Type: kradiusv1.ConditionSynced, Status: metav1.ConditionTrue, Reason: kradiusv1.ReasonSynced,
		Message: "in the cluster's client table", ObservedGeneration: c.Generation}
	var rc kradiusv1.RadiusCluster
	var s corev1.Secret
	switch err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.ClusterRef.Name}, &rc); {
	case apierrors.IsNotFound(err):
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, kradiusv1.ReasonClusterNotFound, fmt.Sprintf("RadiusCluster %q not found", c.Spec.ClusterRef.Name)
	case err != nil:
		return ctrl.Result{}, err
	default:
		err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.SecretRef.Name}, &s)
		switch {
		case apierrors.IsNotFound(err):
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, kradiusv1.ReasonSecretNotFound, fmt.Sprintf("Secret %q not found: the client is left out of the table", c.Spec.SecretRef.Name)
		case err != nil:
			return ctrl.Result{}, err
		case len(s.Data[c.Spec.SecretRef.Key]) == 0:
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, kradiusv1.ReasonSecretNotFound, fmt.Sprintf("Secret %q has no key %q", c.Spec.SecretRef.Name, c.Spec.SecretRef.Key)
		}
	}
	meta.SetStatusCondition(&c.Status.Conditions, cond)
	c.Status.ObservedGeneration = c.Generation
	return ctrl.Result{}, r.Status().Update(ctx, &c)
}

// SetupWithManager registers the controller; Secrets requeue every client
// of their namespace (few of them, and rarely).
func (r *RadiusClientReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kradiusv1.RadiusClient{}).
		Named("radiusclient").
		Complete(r)
}
