package profiles

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/nas"
)

// TestContract holds every registered profile to the contract the machinery
// relies on: a unique name a config key can hold, options that decode when
// absent, a build that succeeds, and metrics under its own prefix.
func TestContract(t *testing.T) {
	seen := map[string]bool{}
	name := regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	for _, p := range All {
		if !name.MatchString(p.Name) || seen[p.Name] {
			t.Errorf("profile %q: the name must be unique and lower-case letters and digits", p.Name)
		}
		seen[p.Name] = true
		if p.Summary == "" || p.Options == nil || p.New == nil {
			t.Errorf("profile %q: Summary, Options and New are required", p.Name)
			continue
		}
		if _, err := p.Options(nil); err != nil {
			t.Errorf("profile %q: a client without options must be valid: %v", p.Name, err)
		}
		reg := prometheus.NewRegistry()
		built, err := p.New(nas.Deps{Metrics: reg})
		if err != nil {
			t.Errorf("profile %q: %v", p.Name, err)
			continue
		}
		if _, err := built.Client(nil); err != nil {
			t.Errorf("profile %q: a client without options: %v", p.Name, err)
		}
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if len(families) == 0 {
			t.Errorf("profile %q registers no metrics", p.Name)
		}
		for _, f := range families {
			if !strings.HasPrefix(f.GetName(), "kradius_"+p.Name+"_") || f.GetHelp() == "" {
				t.Errorf("profile %q: metric %s: names start with kradius_%s_ and carry help", p.Name, f.GetName(), p.Name)
			}
		}
		if p.Sessions != nil {
			s := p.Sessions(nas.SessionDeps{})
			for _, k := range s.EffectKinds() {
				if k == "cdr" {
					t.Errorf("profile %q: effect kind cdr is the consumer's own", p.Name)
				}
			}
		}
	}
	if _, ok := Lookup(Default); !ok {
		t.Errorf("default profile %q is not registered", Default)
	}
}

func TestHandlerOfUnknownProfile(t *testing.T) {
	b, err := Build(nas.Deps{Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Handler("cisco", nil); err == nil || !strings.Contains(err.Error(), `unknown profile "cisco"`) {
		t.Errorf("err = %v", err)
	}
	for _, name := range Names() {
		if h, err := b.Handler(name, nil); err != nil || h == nil {
			t.Errorf("%s: %v %v", name, h, err)
		}
	}
}

type runner struct{ ran chan struct{} }

func (r runner) Run(ctx context.Context) error {
	close(r.ran)
	<-ctx.Done()
	return nil
}

// RunAll runs the parts that are Runners, and only those, until ctx ends.
func TestRunAll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := runner{ran: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- RunAll(ctx, any(r), any("not a runner")) }()
	<-r.ran
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunAll: %v", err)
	}
}
