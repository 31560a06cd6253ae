package controller

import (
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/records"
)

// outcome is what a sync attempt means for the resource: its Synced
// condition, and whether and when to try again.
type outcome struct {
	reason, message string
	ok              bool
	requeue         time.Duration // 0: no timed retry
	retry           bool          // return an error: controller-runtime backs off
}

// classify is the decision table from a sync error to an outcome.
func classify(err error) outcome {
	switch {
	case err == nil:
		return outcome{ok: true, reason: kradiusv1.ReasonSynced, message: "written to the store"}
	case errors.Is(err, records.ErrInvalid), status.Code(err) == codes.InvalidArgument:
		// Retrying cannot help: the spec must change, which triggers a new sync.
		return outcome{reason: kradiusv1.ReasonInvalid, message: err.Error()}
	case status.Code(err) == codes.FailedPrecondition, errors.Is(err, errDuplicate):
		// A relation (a member, the DID's account) may appear later; the
		// resource writing a duplicate's record may go.
		return outcome{reason: kradiusv1.ReasonConflict, message: err.Error(), requeue: 30 * time.Second}
	case errors.Is(err, errSecretNotFound):
		return outcome{reason: kradiusv1.ReasonSecretNotFound, message: err.Error(), requeue: 30 * time.Second}
	case apierrors.IsNotFound(err):
		return outcome{reason: kradiusv1.ReasonClusterNotFound, message: err.Error(), requeue: 30 * time.Second}
	default:
		return outcome{reason: kradiusv1.ReasonUnavailable, message: err.Error(), retry: true}
	}
}

var errSecretNotFound = errors.New("secret not found")

// apply sets the Synced condition and returns the reconcile result.
func (o outcome) apply(conds *[]metav1.Condition, generation int64, cause error) (ctrl.Result, error) {
	st := metav1.ConditionFalse
	if o.ok {
		st = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: kradiusv1.ConditionSynced, Status: st, Reason: o.reason, Message: truncate(o.message, 1024), ObservedGeneration: generation,
	})
	if o.retry {
		return ctrl.Result{}, cause
	}
	return ctrl.Result{RequeueAfter: o.requeue}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
