package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kradiusv1 "kradius.dev/api/v1alpha1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
)

// recordKind says how the resources of one kind (SIPUser, SIPRoute,
// Carrier) each become one record of a profile's kind, which the admin
// API's PutRecords writes and DeleteRecord deletes. recordReconciler does
// the rest, as the Account controller does for accounts.
type recordKind[T client.Object] struct {
	// kind is the resource's kind, for messages and the controller's name.
	kind string
	// store is the records' kind in the store ("firebrick.users").
	store string
	// keyField is the field the record's key comes from, for messages.
	keyField string

	newObject func() T
	newList   func() client.ObjectList
	cluster   func(T) string
	// key is the record's key as the resource gives it; fold, as the store
	// keeps it (the kind's Schema.Fold).
	key  func(T) string
	fold func(string) string
	// record converts a resource, reading its Secrets with c. It returns
	// the record and what identifies the Secrets' values (their
	// resourceVersions; "" for a kind without Secrets).
	record func(ctx context.Context, c client.Client, obj T) (*recordsv1.Record, string, error)
	// secrets are the names of the Secrets a resource reads, if its kind
	// reads any: a change to one requeues it.
	secrets func(T) []string
	// status returns the resource's conditions and observedGeneration.
	status func(T) (*[]metav1.Condition, *int64)
	// written records in status what the store now holds.
	written func(T, *recordsv1.Record)
}

// recordReconciler writes the resources of a recordKind through the admin
// service: PutRecords on every change of the spec or of its Secrets,
// DeleteRecord from a finalizer. Two resources of the kind with one key in
// one cluster would overwrite each other's record: the one created first
// writes it, the other reports Synced=False, Conflict until the first goes.
type recordReconciler[T client.Object] struct {
	client.Client
	Admin *AdminConns
	k     recordKind[T]
}

// recordKeyField indexes the resources of a record kind by cluster and
// folded key: the ones sharing a record.
const recordKeyField = "kradius.dev/record-key"

// recordSecretsField indexes the resources of a record kind by the Secrets
// they read.
const recordSecretsField = "kradius.dev/record-secrets"

// errDuplicate is a record that another resource, created first, writes.
var errDuplicate = errors.New("a duplicate key")

func (r *recordReconciler[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.k.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return r.finalize(ctx, obj)
	}
	if controllerutil.AddFinalizer(obj, finalizer) {
		if err := r.Update(ctx, obj); err != nil {
			return ctrl.Result{}, err
		}
	}
	conds, observed := r.k.status(obj)
	rec, secretVersion, err := r.k.record(ctx, r.Client, obj)
	if err == nil && upToDate(*conds, obj, secretVersion) {
		return ctrl.Result{}, nil
	}
	if err == nil {
		err = r.claim(ctx, obj)
	}
	if err == nil {
		err = r.write(ctx, obj, rec)
	}
	if err == nil {
		r.k.written(obj, rec)
	}
	res, rerr := classify(err).apply(conds, obj.GetGeneration(), err)
	*observed = obj.GetGeneration()
	if serr := r.Status().Update(ctx, obj); serr != nil {
		return ctrl.Result{}, serr
	}
	if err == nil && obj.GetAnnotations()[syncedSecretAnnotation] != secretVersion {
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		if secretVersion == "" {
			delete(a, syncedSecretAnnotation)
		} else {
			a[syncedSecretAnnotation] = secretVersion
		}
		obj.SetAnnotations(a)
		if uerr := r.Update(ctx, obj); uerr != nil {
			return ctrl.Result{}, uerr
		}
	}
	return res, rerr
}

// upToDate: this generation, and these Secrets' values, are in the store.
func upToDate(conds []metav1.Condition, obj client.Object, secretVersion string) bool {
	c := meta.FindStatusCondition(conds, kradiusv1.ConditionSynced)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.GetGeneration() &&
		obj.GetAnnotations()[syncedSecretAnnotation] == secretVersion
}

func (r *recordReconciler[T]) write(ctx context.Context, obj T, rec *recordsv1.Record) error {
	admin, err := r.admin(ctx, obj)
	if err != nil {
		return err
	}
	_, err = admin.PutRecords(ctx, &recordsv1.PutRecordsRequest{Records: []*recordsv1.Record{rec}})
	return err
}

func (r *recordReconciler[T]) admin(ctx context.Context, obj T) (adminv1.AdminServiceClient, error) {
	addr, err := adminAddress(ctx, r.Client, obj.GetNamespace(), r.k.cluster(obj))
	if err != nil {
		return nil, err
	}
	return r.Admin.For(addr)
}

// claim fails with errDuplicate when another resource of the kind, not
// being deleted and created first (or in the same second, with a lesser
// name), has the same key in the same cluster.
func (r *recordReconciler[T]) claim(ctx context.Context, obj T) error {
	others, err := r.sharing(ctx, obj)
	if err != nil {
		return err
	}
	for _, o := range others {
		if first(o, obj) {
			return fmt.Errorf("%s %q: %s %q, created first, writes this record in cluster %q (%w); delete one of them",
				r.k.keyField, r.k.key(obj), r.k.kind, o.GetName(), r.k.cluster(obj), errDuplicate)
		}
	}
	return nil
}

func first(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return a.GetName() < b.GetName()
}

// sharing lists the other resources of the kind, not being deleted, whose
// record is obj's.
func (r *recordReconciler[T]) sharing(ctx context.Context, obj T) ([]client.Object, error) {
	list := r.k.newList()
	if err := r.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{recordKeyField: r.recordKey(obj)}); err != nil {
		return nil, err
	}
	var out []client.Object
	err := meta.EachListItem(list, func(o runtime.Object) error {
		if c := o.(client.Object); c.GetUID() != obj.GetUID() && c.GetDeletionTimestamp().IsZero() {
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// recordKey is the index value of recordKeyField: the cluster and the key
// as the store keeps it.
func (r *recordReconciler[T]) recordKey(obj T) string {
	return r.k.cluster(obj) + "/" + r.k.fold(r.k.key(obj))
}

// finalize deletes the record, then the finalizer; not when another
// resource still has the record's key (it writes the record now), nor when
// the cluster itself is gone, leaving no store to clean.
func (r *recordReconciler[T]) finalize(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, finalizer) {
		return ctrl.Result{}, nil
	}
	others, err := r.sharing(ctx, obj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(others) == 0 {
		admin, err := r.admin(ctx, obj)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return ctrl.Result{}, err
		default:
			_, err = admin.DeleteRecord(ctx, &recordsv1.DeleteRecordRequest{Kind: r.k.store, Key: r.k.key(obj)})
			if err != nil && !noRecord(err) {
				conds, _ := r.k.status(obj)
				res, rerr := classify(err).apply(conds, obj.GetGeneration(), err)
				_ = r.Status().Update(ctx, obj)
				if rerr == nil {
					res.RequeueAfter = deletionRetry
				}
				return res, rerr
			}
		}
	}
	controllerutil.RemoveFinalizer(obj, finalizer)
	return ctrl.Result{}, r.Update(ctx, obj)
}

// noRecord says a DeleteRecord error means there is no record to delete:
// none has the key, the server does not know the kind (INVALID_ARGUMENT),
// or it keeps no records of the profiles' kinds at all (UNIMPLEMENTED).
func noRecord(err error) bool {
	switch status.Code(err) {
	case codes.NotFound, codes.InvalidArgument, codes.Unimplemented:
		return true
	}
	return false
}

// SetupWithManager registers the controller. The resources of the kind
// sharing a key requeue each other, so that the next in line writes the
// record when the one writing it goes; a change to a Secret requeues the
// resources reading it.
func (r *recordReconciler[T]) SetupWithManager(mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(context.Background(), r.k.newObject(), recordKeyField, func(o client.Object) []string {
		return []string{r.recordKey(o.(T))}
	}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(r.k.newObject()).
		Watches(r.k.newObject(), r.enqueueSharing(mgr.GetClient())).
		Named(strings.ToLower(r.k.kind))
	if r.k.secrets != nil {
		if err := idx.IndexField(context.Background(), r.k.newObject(), recordSecretsField, func(o client.Object) []string {
			return r.k.secrets(o.(T))
		}); err != nil {
			return err
		}
		b = b.Watches(&corev1.Secret{}, r.enqueueIndexed(mgr.GetClient(), recordSecretsField, func(o client.Object) string { return o.GetName() }))
	}
	return b.Complete(r)
}

// enqueueSharing maps a resource to the others of its kind with its key.
func (r *recordReconciler[T]) enqueueSharing(c client.Client) handler.EventHandler {
	return r.enqueueIndexed(c, recordKeyField, func(o client.Object) string { return r.recordKey(o.(T)) })
}

// enqueueIndexed maps an object to the resources of the kind in its
// namespace whose index field has the value value(o), itself excepted.
func (r *recordReconciler[T]) enqueueIndexed(c client.Client, field string, value func(client.Object) string) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		list := r.k.newList()
		if err := c.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{field: value(o)}); err != nil {
			return nil
		}
		var out []reconcile.Request
		_ = meta.EachListItem(list, func(item runtime.Object) error {
			if i := item.(client.Object); i.GetUID() != o.GetUID() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(i)})
			}
			return nil
		})
		return out
	})
}
