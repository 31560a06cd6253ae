package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kradiusv1 "kradius.dev/api/v1alpha1"
)

// RadiusClientReconciler reports whether a RadiusClient can be served: its
// cluster and secret exist, and no older client of the cluster claims one
// of its address ranges or RadSec identities. The RadiusCluster controller
// writes the client table that the edges load.
type RadiusClientReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=kradius.dev,resources=radiusclients/status,verbs=get;update;patch

func (r *RadiusClientReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var c kradiusv1.RadiusClient
	if err := r.Get(ctx, req.NamespacedName, &c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cond, err := r.synced(ctx, &c)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Secrets and clusters requeue clients often; an unchanged status is
	// not written again.
	changed := meta.SetStatusCondition(&c.Status.Conditions, cond)
	if !changed && c.Status.ObservedGeneration == c.Generation {
		return ctrl.Result{}, nil
	}
	c.Status.ObservedGeneration = c.Generation
	return ctrl.Result{}, r.Status().Update(ctx, &c)
}

// synced is the client's Synced condition: whether the RadiusCluster
// controller puts it in the table, and if not, why.
func (r *RadiusClientReconciler) synced(ctx context.Context, c *kradiusv1.RadiusClient) (metav1.Condition, error) {
	cond := metav1.Condition{Type: kradiusv1.ConditionSynced, Status: metav1.ConditionTrue, Reason: kradiusv1.ReasonSynced,
		Message: "in the cluster's client table", ObservedGeneration: c.Generation}
	notSynced := func(reason, format string, args ...any) (metav1.Condition, error) {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reason, truncate(fmt.Sprintf(format, args...), 1024)
		return cond, nil
	}
	var rc kradiusv1.RadiusCluster
	switch err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.ClusterRef.Name}, &rc); {
	case apierrors.IsNotFound(err):
		return notSynced(kradiusv1.ReasonClusterNotFound, "RadiusCluster %q not found", c.Spec.ClusterRef.Name)
	case err != nil:
		return cond, err
	}
	if ref := c.Spec.SecretRef; ref != nil && len(c.Spec.CIDRs) > 0 {
		var s corev1.Secret
		switch err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ref.Name}, &s); {
		case apierrors.IsNotFound(err):
			return notSynced(kradiusv1.ReasonSecretNotFound, "Secret %q not found: the client is left out of the table", ref.Name)
		case err != nil:
			return cond, err
		case len(s.Data[ref.Key]) == 0:
			return notSynced(kradiusv1.ReasonSecretNotFound, "Secret %q has no key %q", ref.Name, ref.Key)
		}
	}
	siblings, err := r.clientsOf(ctx, c.Namespace, c.Spec.ClusterRef.Name)
	if err != nil {
		return cond, err
	}
	if msg, lost := clientConflicts(siblings)[clientKey(c)]; lost {
		return notSynced(kradiusv1.ReasonConflict, "%s", msg)
	}
	if c.Spec.RadSec != nil && radsecOn(&rc) == nil {
		// In the table all the same: the identities wait for the port.
		cond.Message += fmt.Sprintf("; RadiusCluster %q serves no RadSec yet (spec.edge.radsec.enabled), so spec.radsec is not used", rc.Name)
	}
	return cond, nil
}

// clientsOf lists the RadiusClients of one cluster.
func (r *RadiusClientReconciler) clientsOf(ctx context.Context, namespace, cluster string) ([]kradiusv1.RadiusClient, error) {
	var list kradiusv1.RadiusClientList
	if err := r.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var out []kradiusv1.RadiusClient
	for _, c := range list.Items {
		if c.Spec.ClusterRef.Name == cluster {
			out = append(out, c)
		}
	}
	return out, nil
}

// SetupWithManager registers the controller. A client's spec change or
// deletion requeues the other clients of its namespace, so that a client
// waiting on a Conflict is served as soon as the older claim goes; status
// updates do not change the generation, so they requeue nothing. A Secret
// or a RadiusCluster requeues the clients that name it, so that a client
// made before either says Synced once the cluster's table has it, and one
// whose Secret goes says so.
func (r *RadiusClientReconciler) SetupWithManager(mgr ctrl.Manager) error {
	naming := func(names func(*kradiusv1.RadiusClient) string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var list kradiusv1.RadiusClientList
			if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
				return nil
			}
			var out []reconcile.Request
			for _, c := range list.Items {
				if names(&c) == o.GetName() {
					out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
				}
			}
			return out
		})
	}
	secretOf := func(c *kradiusv1.RadiusClient) string {
		if c.Spec.SecretRef == nil {
			return ""
		}
		return c.Spec.SecretRef.Name
	}
	clusterOf := func(c *kradiusv1.RadiusClient) string { return c.Spec.ClusterRef.Name }
	siblings := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list kradiusv1.RadiusClientList
		if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, c := range list.Items {
			if c.Name != o.GetName() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
			}
		}
		return out
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&kradiusv1.RadiusClient{}).
		Watches(&kradiusv1.RadiusClient{}, siblings, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, naming(secretOf)).
		Watches(&kradiusv1.RadiusCluster{}, naming(clusterOf), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("radiusclient").
		Complete(r)
}
