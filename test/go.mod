module kradius.dev/test

go 1.26.8

// The workspace (go.work) builds against the modules in this repository.
replace (
	kradius.dev/proto => ../proto
	kradius.dev/services => ../services
)

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	google.golang.org/protobuf v1.36.12
	kradius.dev/proto v0.0.0
	kradius.dev/services v0.0.0-00010101000000-000000000000
	layeh.com/radius v0.0.0-20231213012653-1006025d24f8
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/segmentio/kafka-go v0.4.51 // indirect
	github.com/twmb/franz-go v1.22.2 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
