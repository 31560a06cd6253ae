// Package sipattr holds the RFC 5090 attribute helpers (Digest-* and
// SIP-AOR) generated from ../dictionary.rfc5090 by layeh's radius-dict-gen,
// for the firebrick profile.
package sipattr

//go:generate go run layeh.com/radius/cmd/radius-dict-gen -package sipattr -output zz_generated.go ../dictionary.rfc5090
