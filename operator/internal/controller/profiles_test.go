package controller

import (
	"os"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas/profiles"
)

// TestProfileEnumFollowsRegistry: the RadiusClient CRD offers exactly the
// profiles the binary has, so that a resource the API server accepts is one
// the edges serve.
func TestProfileEnumFollowsRegistry(t *testing.T) {
	b, err := os.ReadFile("../../config/crd/bases/kradius.dev_radiusclients.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema struct {
						Properties map[string]struct {
							Properties map[string]struct {
								Enum    []string `yaml:"enum"`
								Default string   `yaml:"default"`
							} `yaml:"properties"`
						} `yaml:"properties"`
					} `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatal(err)
	}
	if len(crd.Spec.Versions) == 0 {
		t.Fatal("the CRD has no versions")
	}
	for _, v := range crd.Spec.Versions {
		profile := v.Schema.OpenAPIV3Schema.Properties["spec"].Properties["profile"]
		if !slices.Equal(profile.Enum, profiles.Names()) {
			t.Errorf("RadiusClient spec.profile enum %v, registry %v: edit the Enum marker in api/v1alpha1/radiusclient_types.go and run make generate", profile.Enum, profiles.Names())
		}
		if profile.Default != profiles.Default {
			t.Errorf("RadiusClient spec.profile default %q, registry default %q", profile.Default, profiles.Default)
		}
	}
}
