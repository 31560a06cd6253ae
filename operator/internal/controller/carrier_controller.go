package controller

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas/carrier"
)

// CarrierReconciler writes Carrier resources through the admin service, as
// records of the shared kind carriers.
type CarrierReconciler struct {
	client.Client
	Admin *AdminConns
}

// +kubebuilder:rbac:groups=kradius.dev,resources=carriers;carriers/status;carriers/finalizers,verbs=get;list;watch;update;patch

// SetupWithManager registers the controller.
func (r *CarrierReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return (&recordReconciler[*kradiusv1.Carrier]{Client: r.Client, Admin: r.Admin, k: carriers}).SetupWithManager(mgr)
}

var carriers = recordKind[*kradiusv1.Carrier]{
	kind:      "Carrier",
	store:     records.KindCarriers,
	keyField:  "spec.name",
	newObject: func() *kradiusv1.Carrier { return &kradiusv1.Carrier{} },
	newList:   func() client.ObjectList { return &kradiusv1.CarrierList{} },
	cluster:   func(c *kradiusv1.Carrier) string { return c.Spec.ClusterRef.Name },
	key:       records.CarrierName,
	fold:      carrier.Kind.Schema.Fold,
	record: func(_ context.Context, _ client.Client, c *kradiusv1.Carrier) (*recordsv1.Record, string, error) {
		rec, err := records.Carrier(c)
		return rec, "", err
	},
	status: func(c *kradiusv1.Carrier) (*[]metav1.Condition, *int64) {
		return &c.Status.Conditions, &c.Status.ObservedGeneration
	},
	written: func(c *kradiusv1.Carrier, _ *recordsv1.Record) { c.Status.CarrierName = records.CarrierName(c) },
}
