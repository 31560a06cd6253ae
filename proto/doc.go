// Package proto will hold kradius's protobuf services and records under
// kradius/<service>/v1 (accounts, dids, admin, accounting), with buf.yaml and
// the generated Go checked in. They arrive with the distributed-services issue.
package proto
