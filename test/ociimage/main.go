// Command ociimage packs one static binary into an OCI image archive,
// without Docker: an empty base, one layer holding the binary, the
// system's CA certificates and a passwd entry for the non-root user it
// runs as, labelled with the OCI annotations (source, revision, version).
// The same inputs give the same digest: every timestamp is -created (the
// commit's time), the layer's entries are in a fixed order, and nothing of
// the machine's state but the CA bundle goes in.
//
//	ociimage -binary bin/kradius -entrypoint /kradius -name localhost/kradius:v1 -out bin/kradius.oci.tar \
//	  -created 2026-12-05T06:00:00Z -revision SHA -version v1 -source https://example.com/kradius
//
// The archive is an OCI image layout in a tar, which `ctr images import`
// and `skopeo copy oci-archive:` read.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonRoot is the user the image runs as: no account on the host, and not
// root in the container (the chart's restricted securityContext).
const nonRoot = 65532

func main() {
	var (
		binary     = flag.String("binary", "", "the static binary to pack")
		entrypoint = flag.String("entrypoint", "", "its path in the image, e.g. /kradius")
		name       = flag.String("name", "", "the image's reference, e.g. localhost/kradius:v1.2.3")
		out        = flag.String("out", "", "the OCI archive to write")
		created    = flag.String("created", "", "RFC 3339 time of every timestamp (the commit's time)")
		revision   = flag.String("revision", "", "org.opencontainers.image.revision")
		version    = flag.String("version", "", "org.opencontainers.image.version")
		source     = flag.String("source", "", "org.opencontainers.image.source")
		caBundle   = flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "CA certificates for TLS to Redis and Kafka with system roots; empty for none")
	)
	flag.Parse()
	if err := run(*binary, *entrypoint, *name, *out, *created, *caBundle, map[string]string{
		"org.opencontainers.image.revision": *revision,
		"org.opencontainers.image.version":  *version,
		"org.opencontainers.image.source":   *source,
		"org.opencontainers.image.title":    filepath.Base(*entrypoint),
	}); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(binary, entrypoint, name, out, created, caBundle string, labels map[string]string) error {
	if binary == "" || entrypoint == "" || name == "" || out == "" || created == "" {
		return errors.New("-binary, -entrypoint, -name, -out and -created are required")
	}
	at, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return fmt.Errorf("-created: %w", err)
	}
	for k, v := range labels {
		if v == "" {
			delete(labels, k)
		}
	}
	files := map[string]file{}
	if files[entrypoint], err = readFile(binary, 0o755); err != nil {
		return err
	}
	if caBundle != "" {
		if files["/etc/ssl/certs/ca-certificates.crt"], err = readFile(caBundle, 0o644); err != nil {
			return err
		}
	}
	files["/etc/passwd"] = file{mode: 0o644, data: fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonRoot, nonRoot)}
	files["/etc/group"] = file{mode: 0o644, data: fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", nonRoot)}
	layerTar, err := layerOf(files, []string{"/tmp", "/home/nonroot"}, at)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer: layer, History: v1.History{Created: v1.Time{Time: at}, CreatedBy: "ociimage " + filepath.Base(binary)},
	})
	if err != nil {
		return err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Created = v1.Time{Time: at}
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Config.Entrypoint = []string{entrypoint}
	cfg.Config.User = fmt.Sprintf("%d:%d", nonRoot, nonRoot)
	cfg.Config.WorkingDir = "/home/nonroot"
	cfg.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cfg.Config.Labels = labels
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	img = mutate.Annotations(img, labels).(v1.Image)
	return writeArchive(img, name, out, at)
}

type file struct {
	mode int64
	data []byte
}

func readFile(path string, mode int64) (file, error) {
	b, err := os.ReadFile(path)
	return file{mode: mode, data: b}, err
}

// layerOf is a tar of files and dirs (and their parents), sorted, owned by
// root, every time at.
func layerOf(files map[string]file, dirs []string, at time.Time) ([]byte, error) {
	all := map[string]bool{}
	addParents := func(p string) {
		for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
			all[d+"/"] = true
		}
	}
	for p := range files {
		all[p] = true
		addParents(p)
	}
	for _, d := range dirs {
		all[d+"/"] = true
		addParents(d)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := &tar.Header{Name: n[1:], ModTime: at, Format: tar.FormatPAX, Uid: 0, Gid: 0}
		if f, ok := files[n]; ok {
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, f.mode, int64(len(f.data))
		} else {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
			switch n {
			case "/tmp/":
				h.Mode = 0o1777
			case "/home/nonroot/":
				h.Uid, h.Gid, h.Mode = nonRoot, nonRoot, 0o700
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if f, ok := files[n]; ok {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeArchive writes img as an OCI image layout, tagged name, into a tar
// at out, its entries sorted and timed at.
func writeArchive(img v1.Image, name, out string, at time.Time) error {
	dir, err := os.MkdirTemp("", "ociimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": name,
		"io.containerd.image.name":          name,
	})); err != nil {
		return err
	}
	var paths []string
	if err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && path != dir {
			paths = append(paths, path)
		}
		return err
	}); err != nil {
		return err
	}
	sort.Strings(paths)
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		h := &tar.Header{Name: rel, ModTime: at, Mode: 0o644, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: info.Size()}
		if info.IsDir() {
			h.Name, h.Mode, h.Typeflag, h.Size = rel+"/", 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
		}
	}
	if err := errors.Join(tw.Close(), f.Close()); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", name, digest)
	return os.Rename(out+".tmp", out)
}
