// Package dialogic is the Dialogic (Sangoma) IMG 1010 / IMG 2020 profile:
// the IMG as a tandem (transit) gateway between the primary carrier and
// its partners (seed 003, "IMG 1010 - RADIUS - Implementing: Tandem
// Solution"), with optional carrier authentication and per-leg accounting
// from which inter-carrier billing identifies the originating and
// terminating carriers (NAS-IP-Address with the trunk, or the originate
// and remote addresses).
//
// The IMG's attributes are vendor 3028's (dictionary.dialogic; typed
// helpers in dlgattr). Only some have documented numbers: the seed's
// Originate Address, Call Direction, Accounting start type and Start Time
// are at kradius's default numbers, and every role's number is a
// per-client option (Options).
//
// The consumer's part settles each Stop between the originating and the
// terminating carrier (settle.go); README.md says how.
package dialogic
