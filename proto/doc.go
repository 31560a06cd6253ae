// Package proto holds kradius's protobuf services (kradius/<service>/v1) and
// their generated Go code, which `make generate` rebuilds with buf.
package proto
