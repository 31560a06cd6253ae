package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kradiusv1 "kradius.dev/api/v1alpha1"
)

// passwordSecretField indexes Accounts by the Secret holding their password.
const passwordSecretField = "spec.passwordSecretRef.name"

// enqueueAccountsOfSecret maps a Secret to the Accounts whose password it holds.
func enqueueAccountsOfSecret(c client.Client) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list kradiusv1.AccountList
		if err := c.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{passwordSecretField: o.GetName()}); err != nil {
			return nil
		}
		out := make([]reconcile.Request, len(list.Items))
		for i, a := range list.Items {
			out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&a)}
		}
		return out
	})
}
