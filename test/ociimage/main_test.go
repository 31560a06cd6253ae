package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// build packs a fake binary and returns the image's digest, as the
// archive's layout records it.
func build(t *testing.T, created string, binary []byte) (string, layout.Path) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "kradius")
	if err := os.WriteFile(bin, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "image.tar")
	labels := map[string]string{"org.opencontainers.image.revision": "abc123", "org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.source": "https://example.com/kradius"}
	if err := run(bin, "/kradius", "localhost/kradius:v1.2.3", out, created, "", labels); err != nil {
		t.Fatal(err)
	}
	unpacked := filepath.Join(dir, "layout")
	untar(t, out, unpacked)
	p, err := layout.FromPath(unpacked)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("index: %v, %d manifests", err, len(m.Manifests))
	}
	return m.Manifests[0].Digest.String(), p
}

// The same inputs give the same digest; another commit time another.
func TestReproducible(t *testing.T) {
	a, _ := build(t, "2026-12-05T06:00:00Z", []byte("binary"))
	b, _ := build(t, "2026-12-05T06:00:00Z", []byte("binary"))
	c, _ := build(t, "2026-12-05T07:00:00Z", []byte("binary"))
	if a != b {
		t.Errorf("two builds of the same inputs: %s and %s", a, b)
	}
	if a == c {
		t.Errorf("builds at two commit times share the digest %s", a)
	}
}

// The image runs its binary as a non-root user, and says where it came
// from.
func TestConfigAndLabels(t *testing.T) {
	digest, p := build(t, "2026-12-05T06:00:00Z", []byte("binary"))
	idx, _ := p.ImageIndex()
	m, _ := idx.IndexManifest()
	img, err := p.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" || len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/kradius" {
		t.Errorf("user %q, entrypoint %v", cfg.Config.User, cfg.Config.Entrypoint)
	}
	if cfg.Config.Labels["org.opencontainers.image.revision"] != "abc123" || cfg.Config.Labels["org.opencontainers.image.version"] != "v1.2.3" {
		t.Errorf("labels %v", cfg.Config.Labels)
	}
	manifest, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.Annotations["org.opencontainers.image.source"] != "https://example.com/kradius" {
		t.Errorf("manifest annotations %v", manifest.Annotations)
	}
	if m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "localhost/kradius:v1.2.3" {
		t.Errorf("index annotations %v", m.Manifests[0].Annotations)
	}
	if !strings.HasPrefix(digest, "sha256:") {
		t.Errorf("digest %q", digest)
	}
}
