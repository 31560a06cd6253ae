// Package operator will hold the kradius operator (controller-runtime): the
// controllers that turn RadiusCluster, RadiusClient, Account and DID resources
// into running components and provisioned data. It arrives with its own issue.
package operator
