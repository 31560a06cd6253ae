package version

import (
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector("edge"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "kradius_build_info" || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, want one kradius_build_info series", mfs)
	}
	m := mfs[0].GetMetric()[0]
	if v := m.GetGauge().GetValue(); v != 1 {
		t.Errorf("kradius_build_info = %v, want 1", v)
	}
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	i := Get()
	revision := i.Revision
	if i.Modified {
		revision += "-modified"
	}
	want := map[string]string{"target": "edge", "goversion": runtime.Version(), "version": i.Version, "revision": revision}
	if len(labels) != len(want) {
		t.Errorf("labels = %v, want those of %v", labels, want)
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	// A test binary has no module version or VCS stamp: the defaults must
	// still label the series, since an empty label drops out of a group by.
	if labels["version"] == "" || labels["revision"] == "" {
		t.Errorf("version %q, revision %q: want both non-empty", labels["version"], labels["revision"])
	}
}

func TestOverride(t *testing.T) {
	stamped := read("")
	if stamped.Version == "" || stamped.Revision == "" {
		t.Fatalf("read(\"\") = %+v: want a version and a revision, defaults at least", stamped)
	}
	got := read("v1.2.3")
	if got.Version != "v1.2.3" {
		t.Errorf("read(\"v1.2.3\").Version = %q, want the override", got.Version)
	}
	// Only the version is the release's to set; the revision is the build's.
	if got.Revision != stamped.Revision || got.Modified != stamped.Modified {
		t.Errorf("read(\"v1.2.3\") = %+v, want the revision of %+v", got, stamped)
	}
	if Override == "" && Get() != stamped {
		t.Errorf("Get() = %+v, want read(Override) = %+v", Get(), stamped)
	}
}
