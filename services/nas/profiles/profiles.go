// Package profiles is the registry of NAS profiles: the one list the edge,
// the config, the accounting consumer, the docs and the RadiusClient CRD
// follow. A new NAS family is added here, and nowhere else outside its own
// folder (services/nas/README.md, "Adding a profile").
package profiles

//go:generate go run ./gen

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas"
	"kradius.dev/services/nas/dialogic"
	"kradius.dev/services/nas/faxback"
	"kradius.dev/services/nas/firebrick"
	"kradius.dev/services/nas/generic"
)

// All lists the profiles, in the order the docs and the CRD enum give them.
var All = []nas.Plugin{
	faxback.Plugin,
	firebrick.Plugin,
	dialogic.Plugin,
	generic.Plugin,
}

// Default is the profile of a client that names none.
const Default = "faxback"

// Names are the profiles' names, in registry order.
func Names() []string {
	names := make([]string, len(All))
	for i, p := range All {
		names[i] = p.Name
	}
	return names
}

// Lookup finds a profile by name.
func Lookup(name string) (nas.Plugin, bool) {
	i := slices.IndexFunc(All, func(p nas.Plugin) bool { return p.Name == name })
	if i < 0 {
		return nas.Plugin{}, false
	}
	return All[i], true
}

// Options decodes a client's options block for its profile; block is nil
// when the client has none.
func Options(profile string, block *yaml.Node) (any, error) {
	p, ok := Lookup(profile)
	if !ok {
		return nil, fmt.Errorf("unknown profile %q", profile)
	}
	return p.Options(block)
}

// Built are the profiles built for one process, by name.
type Built map[string]nas.Profile

// Build builds every profile for a process with d.
func Build(d nas.Deps) (Built, error) {
	out := Built{}
	for _, p := range All {
		built, err := p.New(d)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.Name, err)
		}
		out[p.Name] = built
	}
	return out, nil
}

// Run runs the profiles that have work of their own (nas.Runner) until
// ctx ends.
func (b Built) Run(ctx context.Context) error {
	return RunAll(ctx, slices.Collect(maps.Values(b))...)
}

// RunAll runs those of parts that are nas.Runners (profiles, sessions)
// until ctx ends, and returns the first error.
func RunAll[T any](ctx context.Context, parts ...T) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		if r, ok := any(p).(nas.Runner); ok {
			g.Go(func() error { return r.Run(ctx) })
		}
	}
	return g.Wait()
}

// Handler returns the handler of one client: its profile's, with the
// options its block decodes to.
func (b Built) Handler(profile string, block *yaml.Node) (nas.Handler, error) {
	p, ok := b[profile]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q", profile)
	}
	opts, err := Options(profile, block)
	if err != nil {
		return nil, err
	}
	return p.Client(opts)
}

// Sessions are the profiles' parts of the accounting consumer, by name.
func Sessions(d nas.SessionDeps) map[string]nas.Sessions {
	out := map[string]nas.Sessions{}
	for _, p := range All {
		if p.Sessions != nil {
			out[p.Name] = p.Sessions(d)
		}
	}
	return out
}
