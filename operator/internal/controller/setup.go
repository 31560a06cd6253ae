// Package controller holds the kradius operator's controllers. Each
// Reconcile is thin: it reads, calls the pure functions (render.go,
// status.go, package records), and applies.
package controller

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"kradius.dev/services/password"
)

// Setup registers every controller with mgr.
func Setup(mgr ctrl.Manager, admin *AdminConns, params password.Params) error {
	for _, r := range []interface{ SetupWithManager(ctrl.Manager) error }{
		&RadiusClusterReconciler{Client: mgr.GetClient()},
		&RadiusClientReconciler{Client: mgr.GetClient()},
		&AccountReconciler{Client: mgr.GetClient(), Admin: admin, Params: params},
		&DIDReconciler{Client: mgr.GetClient(), Admin: admin},
		&SIPUserReconciler{Client: mgr.GetClient(), Admin: admin},
		&SIPRouteReconciler{Client: mgr.GetClient(), Admin: admin},
		&CarrierReconciler{Client: mgr.GetClient(), Admin: admin},
	} {
		if err := r.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	return nil
}
