// Package test holds kradius's end-to-end tests: they build the real kradius
// binary, start it, and talk to it with real clients (Debian's radclient) and
// real backends. See e2e/.
package test
