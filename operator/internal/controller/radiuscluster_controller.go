package controller

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kradiusv1 "kradius.dev/api/v1alpha1"
)

// RadiusClusterReconciler makes a RadiusCluster's objects: the component
// Deployments, Services, the edge HPA, PDBs, the config and the client table.
type RadiusClusterReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=kradius.dev,resources=radiusclusters;radiusclusters/status,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kradius.dev,resources=radiusclients,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete

func (r *RadiusClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var rc kradiusv1.RadiusCluster
	if err := r.Get(ctx, req.NamespacedName, &rc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if err := r.applyAll(ctx, &rc); err != nil {
		meta.SetStatusCondition(&rc.Status.Conditions, metav1.Condition{Type: kradiusv1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: kradiusv1.ReasonUnavailable, Message: truncate(err.Error(), 1024), ObservedGeneration: rc.Generation})
		_ = r.Status().Update(ctx, &rc)
		return ctrl.Result{}, err
	}
	comps, err := r.componentStatus(ctx, &rc)
	if err != nil {
		return ctrl.Result{}, err
	}
	rc.Status.Components = comps
	rc.Status.ClientsSecretName = clientsSecretName(&rc)
	rc.Status.ObservedGeneration = rc.Generation
	meta.SetStatusCondition(&rc.Status.Conditions, readyCondition(comps, rc.Generation))
	return ctrl.Result{}, r.Status().Update(ctx, &rc)
}

// readyCondition: Ready when every component has all its replicas ready.
func readyCondition(comps []kradiusv1.ComponentStatus, generation int64) metav1.Condition {
	for _, c := range comps {
		if c.ReadyReplicas < c.Replicas {
			return metav1.Condition{Type: kradiusv1.ConditionReady, Status: metav1.ConditionFalse, Reason: kradiusv1.ReasonProgressing,
				Message: fmt.Sprintf("%s: %d of %d replicas ready", c.Name, c.ReadyReplicas, c.Replicas), ObservedGeneration: generation}
		}
	}
	return metav1.Condition{Type: kradiusv1.ConditionReady, Status: metav1.ConditionTrue, Reason: kradiusv1.ReasonAvailable,
		Message: "every component is ready", ObservedGeneration: generation}
}

func (r *RadiusClusterReconciler) componentStatus(ctx context.Context, rc *kradiusv1.RadiusCluster) ([]kradiusv1.ComponentStatus, error) {
	var out []kradiusv1.ComponentStatus
	for _, comp := range components {
		var d appsv1.Deployment
		if err := r.Get(ctx, client.ObjectKey{Namespace: rc.Namespace, Name: componentName(rc.Name, comp)}, &d); err != nil {
			return nil, err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		out = append(out, kradiusv1.ComponentStatus{Name: kradiusv1.ComponentName(comp), Replicas: want, ReadyReplicas: d.Status.ReadyReplicas})
	}
	return out, nil
}

// applyAll creates or updates every object the cluster owns.
func (r *RadiusClusterReconciler) applyAll(ctx context.Context, rc *kradiusv1.RadiusCluster) error {
	cm, err := configMap(rc)
	if err != nil {
		return err
	}
	if err := r.apply(ctx, rc, cm, func(live client.Object) { live.(*corev1.ConfigMap).Data = cm.Data }); err != nil {
		return err
	}
	doc, err := r.clientTable(ctx, rc)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: clientsSecretName(rc), Namespace: rc.Namespace, Labels: labels(rc, "edge")}}
	if err := r.apply(ctx, rc, secret, func(live client.Object) {
		live.(*corev1.Secret).Data = map[string][]byte{"clients.yaml": doc}
	}); err != nil {
		return err
	}
	for _, comp := range components {
		d := deployment(rc, comp, cm)
		if comp == "edge" && hpa(rc) != nil {
			d.Spec.Replicas = nil // the HPA owns the count
		}
		if err := r.apply(ctx, rc, d, func(live client.Object) {
			l := live.(*appsv1.Deployment)
			if d.Spec.Replicas != nil || l.Spec.Replicas == nil {
				l.Spec.Replicas = d.Spec.Replicas
			}
			l.Spec.Selector, l.Spec.Template = d.Spec.Selector, d.Spec.Template
		}); err != nil {
			return err
		}
	}
	for _, s := range services(rc) {
		if err := r.apply(ctx, rc, s, func(live client.Object) {
			l := live.(*corev1.Service)
			// ClusterIP and node ports are the API server's: keep them,
			// by port name, as RadSec's port comes and goes.
			l.Spec.Type, l.Spec.Selector, l.Spec.ExternalTrafficPolicy, l.Spec.LoadBalancerIP = s.Spec.Type, s.Spec.Selector, s.Spec.ExternalTrafficPolicy, s.Spec.LoadBalancerIP
			for i, p := range s.Spec.Ports {
				if j := slices.IndexFunc(l.Spec.Ports, func(lp corev1.ServicePort) bool { return lp.Name == p.Name }); j >= 0 {
					s.Spec.Ports[i].NodePort = l.Spec.Ports[j].NodePort
				}
			}
			l.Spec.Ports = s.Spec.Ports
			l.Annotations = s.Annotations
		}); err != nil {
			return err
		}
	}
	if h := hpa(rc); h != nil {
		if err := r.apply(ctx, rc, h, func(live client.Object) { live.(*autoscalingv2.HorizontalPodAutoscaler).Spec = h.Spec }); err != nil {
			return err
		}
	} else if err := r.Delete(ctx, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: componentName(rc.Name, "edge"), Namespace: rc.Namespace}}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	for _, p := range pdbs(rc) {
		if err := r.apply(ctx, rc, p, func(live client.Object) { live.(*policyv1.PodDisruptionBudget).Spec = p.Spec }); err != nil {
			return err
		}
	}
	return nil
}

// apply creates obj or updates the live one with mutate, owned by rc.
// mutate copies the wanted fields from obj (which the callers' closures
// hold) into the live object it is given: CreateOrUpdate reads the live
// object into the one it is handed, so that one must not be obj, or the
// wanted fields would be overwritten before they are copied, and a change
// of the RadiusCluster would never reach what it owns.
func (r *RadiusClusterReconciler) apply(ctx context.Context, rc *kradiusv1.RadiusCluster, obj client.Object, mutate func(client.Object)) error {
	want := obj.GetLabels()
	live := obj.DeepCopyObject().(client.Object)
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, live, func() error {
		mutate(live)
		l := live.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range want {
			l[k] = v
		}
		live.SetLabels(l)
		return controllerutil.SetControllerReference(rc, live, r.Scheme())
	})
	if err != nil {
		return fmt.Errorf("%T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

// clientTable renders the client-table document of the cluster's clients.
func (r *RadiusClusterReconciler) clientTable(ctx context.Context, rc *kradiusv1.RadiusCluster) ([]byte, error) {
	var list kradiusv1.RadiusClientList
	if err := r.List(ctx, &list, client.InNamespace(rc.Namespace)); err != nil {
		return nil, err
	}
	var mine []kradiusv1.RadiusClient
	secrets := map[string]string{}
	for _, c := range list.Items {
		if c.Spec.ClusterRef.Name != rc.Name {
			continue
		}
		mine = append(mine, c)
		ref := c.Spec.SecretRef
		if ref == nil {
			continue // RadSec only: no secret of its own
		}
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: ref.Name}, &s); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		if v, ok := s.Data[ref.Key]; ok && len(v) > 0 {
			secrets[clientKey(&c)] = string(v)
		}
	}
	return clientsDocument(mine, secrets)
}

// SetupWithManager watches the cluster, what it owns, and the RadiusClients
// and Secrets that make up its client table.
func (r *RadiusClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	toClusters := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list kradiusv1.RadiusClusterList
		if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
			return nil
		}
		out := make([]reconcile.Request, len(list.Items))
		for i, c := range list.Items {
			out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&c)}
		}
		return out
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&kradiusv1.RadiusCluster{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Watches(&kradiusv1.RadiusClient{}, toClusters).
		Watches(&corev1.Secret{}, toClusters).
		Named("radiuscluster").
		Complete(r)
}
