// Package fbattr holds the FaxBack vendor (30694) attribute helpers generated
// from ../dictionary.faxback by layeh's radius-dict-gen. Use it to build
// replies; decode requests with the faxback package's own walker, which also
// reads zero-length sub-attributes that the generated lookups skip.
package fbattr

//go:generate go run layeh.com/radius/cmd/radius-dict-gen -package fbattr -output zz_generated.go ../dictionary.faxback
