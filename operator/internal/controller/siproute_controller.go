package controller

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas/firebrick"
)

// SIPRouteReconciler writes SIPRoute resources through the admin service,
// as records of kind firebrick.routes.
type SIPRouteReconciler struct {
	client.Client
	Admin *AdminConns
}

// +kubebuilder:rbac:groups=kradius.dev,resources=siproutes;siproutes/status;siproutes/finalizers,verbs=get;list;watch;update;patch

// SetupWithManager registers the controller.
func (r *SIPRouteReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return (&recordReconciler[*kradiusv1.SIPRoute]{Client: r.Client, Admin: r.Admin, k: sipRoutes}).SetupWithManager(mgr)
}

var sipRoutes = recordKind[*kradiusv1.SIPRoute]{
	kind:      "SIPRoute",
	store:     records.KindSIPRoutes,
	keyField:  "spec.pattern",
	newObject: func() *kradiusv1.SIPRoute { return &kradiusv1.SIPRoute{} },
	newList:   func() client.ObjectList { return &kradiusv1.SIPRouteList{} },
	cluster:   func(r *kradiusv1.SIPRoute) string { return r.Spec.ClusterRef.Name },
	key:       func(r *kradiusv1.SIPRoute) string { return r.Spec.Pattern },
	fold:      firebrick.Routes.Schema.Fold,
	record: func(_ context.Context, _ client.Client, r *kradiusv1.SIPRoute) (*recordsv1.Record, string, error) {
		rec, err := records.SIPRoute(r)
		return rec, "", err
	},
	status: func(r *kradiusv1.SIPRoute) (*[]metav1.Condition, *int64) {
		return &r.Status.Conditions, &r.Status.ObservedGeneration
	},
	written: func(*kradiusv1.SIPRoute, *recordsv1.Record) {},
}
