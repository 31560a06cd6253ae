// Package dlgattr holds the Dialogic IMG vendor (3028) attribute helpers
// generated from ../dictionary.dialogic by layeh's radius-dict-gen, for the
// dialogic profile. The tandem attributes with no documented number
// (Originate-Address, Call-Direction, Start-Type, Start-Time) are at
// kradius's default numbers here: a client's options may move them, so the
// profile reads those at the numbers its Options give, not with these.
package dlgattr

//go:generate go run layeh.com/radius/cmd/radius-dict-gen -package dlgattr -output zz_generated.go ../dictionary.dialogic
