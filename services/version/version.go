// Package version says which build of kradius is running: the version and
// the source revision, for kradius_build_info, the traces' resource and
// `kradius -version`.
package version

import (
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Override is set by the release build (-ldflags "-X
// kradius.dev/services/version.Override=v1.2.3"); otherwise the version
// is the module's, as the go command stamped it.
var Override string

// RevisionOverride is the VCS revision, set by the Makefile's builds
// (-ldflags "-X kradius.dev/services/version.RevisionOverride=SHA"): the go
// command stamps none in workspace mode, which this repository's go.work
// is.
var RevisionOverride string

// Info is one build's identity.
type Info struct {
	Version  string // a semantic version, or (devel)
	Revision string // the VCS commit, "unknown" without one
	Modified bool   // built from a work tree with uncommitted changes
}

// Get reads the build's identity once.
var Get = sync.OnceValue(func() Info { return read(Override) })

// read is Get's work, with Override as an argument so that a test can see
// it win without the once.
func read(override string) Info {
	i := Info{Version: "(devel)", Revision: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if v := bi.Main.Version; v != "" {
			i.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		i.Version = override
	}
	if RevisionOverride != "" {
		i.Revision = RevisionOverride
	}
	return i
}

// Collector is kradius_build_info for target: a constant 1 whose labels
// say what runs, so that a dashboard can group by version during a rollout.
func Collector(target string) prometheus.Collector {
	i := Get()
	revision := i.Revision
	if i.Modified {
		revision += "-modified"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kradius_build_info",
		Help: "Always 1; the labels name the running build: version, VCS revision, Go version and the -target.",
		ConstLabels: prometheus.Labels{
			"version": i.Version, "revision": revision, "goversion": runtime.Version(), "target": target,
		},
	})
	g.Set(1)
	return g
}
