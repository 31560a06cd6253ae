module kradius.dev/test

go 1.26.8

// The workspace (go.work) builds against the modules in this repository.
replace (
	kradius.dev/proto => ../proto
	kradius.dev/services => ../services
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/twmb/franz-go v1.22.2 // indirect
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.0 // indirect
)
