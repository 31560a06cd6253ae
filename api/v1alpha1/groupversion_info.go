// Package v1alpha1 holds kradius's Kubernetes API, group kradius.dev, version
// v1alpha1: RadiusCluster (the running components), RadiusClient (one NAS
// entry of the edges' client table), Account and DID (the FaxBack data,
// with the field names of the provisioning file, services/provision),
// SIPUser and SIPRoute (the firebrick profile's data) and Carrier (the
// kind the carrier-voice profiles share), with the field names of the
// import format.
//
// The CRDs in operator/config/crd/bases are generated from these types by
// controller-gen (make generate); the markers on the fields are their
// validation and the comments their documentation.
//
// +kubebuilder:object:generate=true
// +groupName=kradius.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "kradius.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this group and version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Resource returns a GroupResource of this group, e.g. Resource("accounts").
func Resource(resource string) schema.GroupResource {
	return GroupVersion.WithResource(resource).GroupResource()
}

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&RadiusCluster{}, &RadiusClusterList{},
		&RadiusClient{}, &RadiusClientList{},
		&Account{}, &AccountList{},
		&DID{}, &DIDList{},
		&SIPUser{}, &SIPUserList{},
		&SIPRoute{}, &SIPRouteList{},
		&Carrier{}, &CarrierList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
