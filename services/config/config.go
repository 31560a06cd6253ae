// Package config is kradius's one configuration tree: defaults, then the YAML
// file given by -config, then flags. Validate runs before anything starts and
// names the offending key.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/rpc"
	"kradius.dev/services/tracing"
)

// Targets are the components one kradius binary can run.
var Targets = []string{"all", "edge", "accounts", "dids", "cdr"}

// Config is the whole tree.
type Config struct {
	Target     string           `yaml:"target"`
	Log        LogConfig        `yaml:"log"`
	HTTP       HTTPConfig       `yaml:"http"`
	Admin      AdminConfig      `yaml:"admin"`
	GRPC       GRPCConfig       `yaml:"grpc"`
	Backends   BackendsConfig   `yaml:"backends"`
	Edge       EdgeConfig       `yaml:"edge"`
	Store      StoreConfig      `yaml:"store"`
	Password   PasswordConfig   `yaml:"password"`
	Accounting AccountingConfig `yaml:"accounting"`
	Tracing    tracing.Config   `yaml:"tracing"`
}

// AccountingConfig is the accounting log, and what the cdr consumer keeps.
type AccountingConfig struct {
	// Log is "journal" (embedded, -target=all), "kafka", or "none"
	// (accounting requests are dropped, never acknowledged). Empty: journal
	// for -target=all; for -target=edge, kafka when brokers are set, else none.
	Log     string          `yaml:"log"`
	Journal JournalConfig   `yaml:"journal"`
	Kafka   kafkalog.Config `yaml:"kafka"`
	// DedupeTTL is how long the cdr consumer remembers an applied effect:
	// longer than any NAS keeps resending a Stop.
	DedupeTTL Duration `yaml:"dedupe_ttl"`
	// DrainTimeout bounds how long the cdr consumer, told to stop, may take
	// to finish the batch in hand: shorter than the pod's termination grace
	// period.
	DrainTimeout Duration `yaml:"drain_timeout"`
}

// JournalConfig is the embedded accounting log of -target=all.
type JournalConfig struct {
	// Dir holds the accounting records; CDRDir the CDRs (the embedded
	// kradius.cdr.v1); Ledger the cdr consumer's done-marks; Settlement
	// the inter-carrier settlement totals (services/settlement), by default
	// settlement.db in Ledger's directory.
	Dir          string `yaml:"dir"`
	CDRDir       string `yaml:"cdr_dir"`
	Ledger       string `yaml:"ledger"`
	Settlement   string `yaml:"settlement"`
	SegmentBytes int64  `yaml:"segment_bytes"`
	// RetentionBytes and MaxBytes are the accounting records journal's:
	// above RetentionBytes old segments go once the cdr consumer has
	// applied them; above MaxBytes (0: never) they go even unapplied,
	// each deletion an error in the log and a count.
	RetentionBytes int64 `yaml:"retention_bytes"`
	MaxBytes       int64 `yaml:"max_bytes"`
	// CDRRetentionBytes and CDRMaxBytes are the same for the CDR journal,
	// whose segments wait for every registered CDR reader.
	CDRRetentionBytes int64 `yaml:"cdr_retention_bytes"`
	CDRMaxBytes       int64 `yaml:"cdr_max_bytes"`
}

// LogConfig sets up log/slog.
type LogConfig struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn or error
}

// HTTPConfig is the operations endpoint: /metrics, /healthz, /readyz.
type HTTPConfig struct {
	Listen string `yaml:"listen"`
}

// AdminConfig is the provisioning endpoint that `kradius import` talks to.
// It writes the store, so it listens on loopback unless told otherwise.
type AdminConfig struct {
	Listen string `yaml:"listen"`
}

// GRPCConfig is the gRPC server of -target=accounts and -target=dids.
type GRPCConfig struct {
	Listen string        `yaml:"listen"`
	TLS    rpc.TLSConfig `yaml:"tls"`
}

// BackendsConfig is how -target=edge reaches the accounts and dids services.
type BackendsConfig struct {
	Accounts string `yaml:"accounts"` // host:port
	DIDs     string `yaml:"dids"`     // host:port
	// Timeout bounds each backend call; an idempotent read that fails fast
	// is retried once within it. Past it the request gets no reply.
	Timeout Duration `yaml:"timeout"`
	// AuthenticateTimeout bounds a password check instead: an uncached one
	// costs an argon2id run, slow by design (measured: docs/performance.md,
	// "Password checks").
	AuthenticateTimeout Duration      `yaml:"authenticate_timeout"`
	TLS                 rpc.TLSConfig `yaml:"tls"`
	// Cache is the edge's cache of accounts and DIDs, kept while the
	// accounts service reports every change (package edgecache).
	Cache CacheConfig `yaml:"cache"`
}

// CacheConfig sizes the edge's cache.
type CacheConfig struct {
	// MaxEntries bounds the accounts kept, and the DIDs; 0 turns the cache
	// off and every request asks the services.
	MaxEntries int `yaml:"max_entries"`
	// TTL bounds how long a record is kept unread, whatever the feed says:
	// the worst staleness if a change ever escapes it.
	TTL Duration `yaml:"ttl"`
}

// RedisConfig is the Redis serving store.
type RedisConfig struct {
	// Addresses: one for a single node, several for Redis Cluster, or the
	// Sentinels when master_name is set.
	Addresses    []string `yaml:"addresses"`
	MasterName   string   `yaml:"master_name"`
	Username     string   `yaml:"username"`
	PasswordFile string   `yaml:"password_file"`
	DB           int      `yaml:"db"`
	// KeyPrefix is the hash tag every key carries, so that one data set
	// lives in one Redis Cluster slot and changes atomically.
	KeyPrefix string        `yaml:"key_prefix"`
	TLS       rpc.TLSConfig `yaml:"tls"`
	// TLSEnabled turns TLS on with the system roots when tls is empty.
	TLSEnabled bool `yaml:"tls_enabled"`
}

// EdgeConfig is the UDP front.
type EdgeConfig struct {
	AuthListen string `yaml:"auth_listen"`
	AcctListen string `yaml:"acct_listen"`
	// Workers is the Access-Requests decided at once; 0 picks by target
	// (see app). AcctWorkers is the Accounting-Requests; 0 picks by the
	// accounting log (see edge.Config).
	Workers        int              `yaml:"workers"`
	AcctWorkers    int              `yaml:"acct_workers"`
	QueueSize      int              `yaml:"queue_size"`
	RequestTimeout Duration         `yaml:"request_timeout"`
	ReplyCache     ReplyCacheConfig `yaml:"reply_cache"`
	Clients        []ClientConfig   `yaml:"clients"`
	// MaxQueueWait is the longest a request waits for a worker before it
	// is dropped (queue_timeout); 0 is half of RequestTimeout. Left out
	// of a rendered config when unset, as reply_cache's newer keys are.
	MaxQueueWait Duration `yaml:"max_queue_wait,omitempty"`
	// ClientsFile is a client-table file (`clients:` as above) that the edge
	// watches and reloads without a restart; its clients add to Clients.
	ClientsFile string `yaml:"clients_file"`
	// RadSec serves RADIUS over TLS (RFC 6614) when listen is set. Left
	// out of a rendered config when unset.
	RadSec  RadSecConfig      `yaml:"radsec,omitempty"`
	secrets map[string][]byte // read from secret_file at validation
}

// RadSecConfig is the edge's RADIUS over TLS port. Its clients are those
// with radsec.identities, known by their certificates.
type RadSecConfig struct {
	Listen string `yaml:"listen"` // TCP host:port, 2083 by the RFC; empty: off
	// TLS is the server's certificate (cert_file, key_file) and the CA
	// that signs the clients' (client_ca_file): all three are required.
	TLS rpc.TLSConfig `yaml:"tls"`
	// HandshakeTimeout bounds a connection's TLS handshake; 0 is 10s.
	HandshakeTimeout Duration `yaml:"handshake_timeout,omitempty"`
	// MaxConnections bounds the connections open at once; 0 is 1024.
	MaxConnections int `yaml:"max_connections,omitempty"`
}

// Enabled says whether the edge serves RadSec.
func (r RadSecConfig) Enabled() bool { return r.Listen != "" }

// ReplyCacheConfig sizes the retransmit cache.
type ReplyCacheConfig struct {
	TTL        Duration `yaml:"ttl"`
	MaxEntries int      `yaml:"max_entries"`
	// Shared is local (or empty): each edge answers the retransmits it
	// sees; or redis: the edges share their replies in store.redis, so a
	// retransmit that reaches another edge gets the same reply. Both keys
	// are left out of a rendered config when unset, which keeps the
	// operator's rendering of an existing cluster as it was.
	Shared string `yaml:"shared,omitempty"`
	// RedisTimeout is the budget of one call to the shared cache; past it
	// the request is decided with the local cache alone. 0 is 20ms.
	RedisTimeout Duration `yaml:"redis_timeout,omitempty"`
}

// The values of edge.reply_cache.shared.
const (
	ReplyCacheLocal = "local"
	ReplyCacheRedis = "redis"
)

// SharedInRedis reports whether the edges share their replies in Redis.
func (r ReplyCacheConfig) SharedInRedis() bool { return r.Shared == ReplyCacheRedis }

// ClientConfig is one RADIUS client (NAS) entry.
type ClientConfig struct {
	Name string `yaml:"name"`
	// CIDRs, Secret and SecretFile are left out of a rendered table when
	// empty: a RadSec-only client has none of them.
	CIDRs      []string `yaml:"cidrs,omitempty"`
	Secret     string   `yaml:"secret,omitempty"`
	SecretFile string   `yaml:"secret_file,omitempty"`
	// Profile names the client's NAS profile in services/nas/profiles.
	Profile              string `yaml:"profile"`
	MessageAuthenticator string `yaml:"message_authenticator"`
	// RateLimit sheds the client's requests beyond a token bucket, so that
	// one flooding NAS cannot starve the others. Unset: no limit.
	RateLimit RateLimitConfig `yaml:"rate_limit,omitempty"`
	// RadSec names the client's certificates for edge.radsec. A client
	// may have cidrs, radsec, or both.
	RadSec ClientRadSecConfig `yaml:"radsec,omitempty"`
	// Options are the client's profile options: the block under a key named
	// for its profile (faxback: {uuid_format: hex}), which the profile
	// decodes and validates. Every other key lands here too, and is refused.
	Options map[string]yaml.Node `yaml:",inline"`
}

// ClientRadSecConfig is how a RadSec connection's certificate names the
// client: Identities lists the names, each a DNS, URI or IP subject
// alternative name, or the subject's common name, compared without case.
type ClientRadSecConfig struct {
	Identities []string `yaml:"identities"`
}

// RateLimitConfig is a client's token bucket: requests_per_second on
// average, burst at once (default: one second's worth).
type RateLimitConfig struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
}

// BurstOrDefault is burst, or one second's worth of requests.
func (r RateLimitConfig) BurstOrDefault() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(math.Ceil(r.RequestsPerSecond)))
}

// ProfileOptions is the client's options block for its profile, nil when
// it has none.
func (c ClientConfig) ProfileOptions() *yaml.Node {
	if n, ok := c.Options[c.Profile]; ok {
		return &n
	}
	return nil
}

// StoreConfig picks the serving store.
type StoreConfig struct {
	Backend string `yaml:"backend"` // embedded or redis
	// LongNames accepts account names of up to 64 UTF-8 characters, for
	// port servers in UUID mode; otherwise names are 1 to 16 bytes.
	LongNames bool           `yaml:"long_names"`
	Embedded  EmbeddedConfig `yaml:"embedded"`
	Redis     RedisConfig    `yaml:"redis"`
	// Bootstrap lists provisioning files applied (upserted) at start.
	Bootstrap []string `yaml:"bootstrap"`
}

// EmbeddedConfig is the bbolt file of -target=all.
type EmbeddedConfig struct {
	Path string `yaml:"path"`
}

// PasswordConfig tunes argon2id hashing and the verification cache.
type PasswordConfig struct {
	MemoryKiB uint32   `yaml:"memory_kib"`
	Time      uint32   `yaml:"time"`
	Threads   uint8    `yaml:"threads"`
	CacheSize int      `yaml:"cache_size"`
	CacheTTL  Duration `yaml:"cache_ttl"`
	// MaxRunning is the argon2 runs at once; 0 is one fewer than the CPUs,
	// at least one. MaxWaiting is the checks that may wait for one; past
	// it the longest waiting is dropped (password_overload); 0 is two per
	// CPU. Both are left out of a rendered config when unset.
	MaxRunning int `yaml:"max_running,omitempty"`
	MaxWaiting int `yaml:"max_waiting,omitempty"`
}

// Duration reads "30s" style YAML values.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 500ms, 30s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Set and String implement flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}
func (d *Duration) String() string { return time.Duration(*d).String() }

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		Target: "all",
		Log:    LogConfig{Format: "text", Level: "info"},
		HTTP:   HTTPConfig{Listen: ":9812"},
		Admin:  AdminConfig{Listen: "127.0.0.1:9813"},
		GRPC:   GRPCConfig{Listen: ":9090"},
		Backends: BackendsConfig{
			Timeout: Duration(50 * time.Millisecond), AuthenticateTimeout: Duration(250 * time.Millisecond),
			Cache: CacheConfig{MaxEntries: 100000, TTL: Duration(time.Minute)},
		},
		Edge: EdgeConfig{
			AuthListen:     ":1812",
			AcctListen:     ":1813",
			QueueSize:      4096,
			RequestTimeout: Duration(time.Second),
			ReplyCache:     ReplyCacheConfig{TTL: Duration(30 * time.Second), MaxEntries: 100000},
		},
		Store: StoreConfig{
			Backend:  "embedded",
			Embedded: EmbeddedConfig{Path: "data/kradius.db"},
			Redis:    RedisConfig{KeyPrefix: "{kradius}"},
		},
		Password: PasswordConfig{MemoryKiB: 19456, Time: 2, Threads: 1, CacheSize: 100000, CacheTTL: Duration(10 * time.Minute)},
		Accounting: AccountingConfig{
			Journal: JournalConfig{
				Dir: "data/accounting", CDRDir: "data/cdr", Ledger: "data/cdr-ledger.db",
				SegmentBytes: 64 << 20, RetentionBytes: 1 << 30, CDRRetentionBytes: 1 << 30,
			},

			Kafka: kafkalog.Config{
				Topics:            kafkalog.Topics{Accounting: kafkalog.DefaultAccountingTopic, CDR: kafkalog.DefaultCDRTopic, Settlement: kafkalog.DefaultSettlementTopic},
				GroupID:           kafkalog.DefaultGroupID,
				Partitions:        kafkalog.DefaultPartitions,
				ReplicationFactor: kafkalog.DefaultReplicationFactor,
				BatchTimeout:      kafkalog.DefaultBatchTimeout,
				BatchSize:         kafkalog.DefaultBatchSize,
				WriteTimeout:      kafkalog.DefaultWriteTimeout,
				SessionTimeout:    kafkalog.DefaultSessionTimeout,
			},
			DedupeTTL:    Duration(7 * 24 * time.Hour),
			DrainTimeout: Duration(20 * time.Second),
		},
		Tracing: tracing.Config{Protocol: tracing.ProtocolGRPC, SamplingRatio: tracing.DefaultSamplingRatio},
	}
}

// Error is a problem with the configuration file or its values, as opposed
// to a flag usage error.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Load builds the configuration from args: -config FILE, then flags, which
// override the file.
func Load(args []string, fs *flag.FlagSet) (Config, error) {
	cfg := Default()
	var file string
	fs.StringVar(&file, "config", "", "YAML configuration file")
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if file != "" {
		if err := cfg.readFile(file); err != nil {
			return cfg, &Error{err}
		}
		// Parse again so that flags win over the file.
		if err := fs.Parse(args); err != nil {
			return cfg, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &Error{err}
	}
	return cfg, nil
}

// RegisterFlags binds the flags that operators commonly override.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Target, "target", c.Target, "component to run: "+strings.Join(Targets, ", "))
	fs.StringVar(&c.Log.Format, "log.format", c.Log.Format, "log format: text or json")
	fs.StringVar(&c.Log.Level, "log.level", c.Log.Level, "log level: debug, info, warn, error")
	fs.StringVar(&c.HTTP.Listen, "http.listen", c.HTTP.Listen, "metrics and health address")
	fs.StringVar(&c.Admin.Listen, "admin.listen", c.Admin.Listen, "provisioning endpoint for kradius import")
	fs.StringVar(&c.Edge.AuthListen, "edge.auth-listen", c.Edge.AuthListen, "UDP address for Access-Requests")
	fs.StringVar(&c.Edge.AcctListen, "edge.acct-listen", c.Edge.AcctListen, "UDP address for Accounting-Requests")
	fs.IntVar(&c.Edge.Workers, "edge.workers", c.Edge.Workers, "Access-Requests decided at once (0: 4 per CPU, at least 16, in -target=all; 64 in -target=edge)")
	fs.IntVar(&c.Edge.AcctWorkers, "edge.acct-workers", c.Edge.AcctWorkers, "Accounting-Requests decided at once (0: one per CPU with the journal or Kafka, whose appends never block a worker)")
	fs.StringVar(&c.Store.Embedded.Path, "store.embedded.path", c.Store.Embedded.Path, "bbolt file of the embedded store")
	fs.StringVar(&c.Store.Backend, "store.backend", c.Store.Backend, "serving store: embedded or redis")
	fs.Func("store.redis.addresses", "comma-separated Redis addresses", func(v string) error {
		c.Store.Redis.Addresses = strings.Split(v, ",")
		return nil
	})
	fs.StringVar(&c.Accounting.Log, "accounting.log", c.Accounting.Log, "accounting log: journal, kafka or none")
	fs.StringVar(&c.Accounting.Journal.Dir, "accounting.journal.dir", c.Accounting.Journal.Dir, "directory of the accounting journal")
	fs.StringVar(&c.Accounting.Journal.CDRDir, "accounting.journal.cdr-dir", c.Accounting.Journal.CDRDir, "directory of the CDR journal")
	fs.StringVar(&c.Accounting.Journal.Ledger, "accounting.journal.ledger", c.Accounting.Journal.Ledger, "file of the cdr consumer's done-marks")
	fs.StringVar(&c.Accounting.Journal.Settlement, "accounting.journal.settlement", c.Accounting.Journal.Settlement, "file of the settlement totals (default: settlement.db beside the ledger)")
	fs.Func("accounting.kafka.brokers", "comma-separated Kafka bootstrap brokers", func(v string) error {
		c.Accounting.Kafka.Brokers = strings.Split(v, ",")
		return nil
	})
	fs.BoolVar(&c.Tracing.Enabled, "tracing.enabled", c.Tracing.Enabled, "send OpenTelemetry traces to tracing.endpoint")
	fs.StringVar(&c.Tracing.Endpoint, "tracing.endpoint", c.Tracing.Endpoint, "OTLP collector URL (default http://127.0.0.1:4317, or :4318 for http)")
	fs.StringVar(&c.Tracing.Protocol, "tracing.protocol", c.Tracing.Protocol, "OTLP transport: grpc or http")
	fs.Float64Var(&c.Tracing.SamplingRatio, "tracing.sampling-ratio", c.Tracing.SamplingRatio, "share of new traces kept, 0 to 1")
	fs.StringVar(&c.GRPC.Listen, "grpc.listen", c.GRPC.Listen, "gRPC address of the accounts and dids targets")
	fs.StringVar(&c.Backends.Accounts, "backends.accounts", c.Backends.Accounts, "accounts service address, for -target=edge")
	fs.StringVar(&c.Backends.DIDs, "backends.dids", c.Backends.DIDs, "dids service address, for -target=edge")
	fs.Var(&c.Backends.Timeout, "backends.timeout", "deadline of one backend lookup")
	fs.Var(&c.Backends.AuthenticateTimeout, "backends.authenticate-timeout", "deadline of one password check")
}

func (c *Config) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return c.decodeFile(b, path)
}

// decodeFile reads b, the contents of the file at path, over c. It is
// apart from readFile so that FuzzLoad runs it on bytes, without a file.
func (c *Config) decodeFile(b []byte, path string) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	// Relative paths in the file are relative to the file, so that a config
	// works from any working directory.
	dir := filepath.Dir(path)
	rel := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	rel(&c.Store.Embedded.Path)
	rel(&c.Store.Redis.PasswordFile)
	rel(&c.Edge.ClientsFile)
	rel(&c.Accounting.Journal.Dir)
	rel(&c.Accounting.Journal.CDRDir)
	rel(&c.Accounting.Journal.Ledger)
	rel(&c.Accounting.Journal.Settlement)
	rel(&c.Accounting.Kafka.SASL.PasswordFile)
	rel(&c.Accounting.Kafka.TLS.CAFile)
	rel(&c.Accounting.Kafka.TLS.CertFile)
	rel(&c.Accounting.Kafka.TLS.KeyFile)
	for _, t := range []*rpc.TLSConfig{&c.GRPC.TLS, &c.Backends.TLS, &c.Store.Redis.TLS, &c.Edge.RadSec.TLS} {
		rel(&t.CertFile)
		rel(&t.KeyFile)
		rel(&t.CAFile)
		rel(&t.ClientCAFile)
	}
	for i := range c.Store.Bootstrap {
		rel(&c.Store.Bootstrap[i])
	}
	for i := range c.Edge.Clients {
		rel(&c.Edge.Clients[i].SecretFile)
	}
	return nil
}

// Validate checks every key and reports all problems, each with its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	oneOf := func(key, v string, allowed []string) { oneOfIn(bad, key, v, allowed) }
	addr := func(key, v string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad(key, "%q is not a host:port address", v)
		}
	}
	positive := func(key string, v int) {
		if v <= 0 {
			bad(key, "must be positive, got %d", v)
		}
	}

	oneOf("target", c.Target, Targets)
	if err := c.Tracing.WithDefaults().Validate(); err != nil {
		key, reason, _ := strings.Cut(err.Error(), ": ")
		bad(key, "%s", reason)
	}
	oneOf("log.format", c.Log.Format, []string{"text", "json"})
	oneOf("log.level", c.Log.Level, []string{"debug", "info", "warn", "error"})
	addr("http.listen", c.HTTP.Listen)
	addr("admin.listen", c.Admin.Listen)

	e := &c.Edge
	addr("edge.auth_listen", e.AuthListen)
	addr("edge.acct_listen", e.AcctListen)
	if e.Workers < 0 {
		bad("edge.workers", "must not be negative (0 picks by target)")
	}
	if e.AcctWorkers < 0 {
		bad("edge.acct_workers", "must not be negative (0 picks by the accounting log)")
	}
	positive("edge.queue_size", e.QueueSize)
	positive("edge.reply_cache.max_entries", e.ReplyCache.MaxEntries)
	if e.RequestTimeout <= 0 {
		bad("edge.request_timeout", "must be positive")
	}
	if e.MaxQueueWait < 0 {
		bad("edge.max_queue_wait", "must not be negative (0 is half of edge.request_timeout)")
	}
	if e.ReplyCache.TTL <= 0 {
		bad("edge.reply_cache.ttl", "must be positive")
	}
	if e.ReplyCache.Shared != "" {
		oneOf("edge.reply_cache.shared", e.ReplyCache.Shared, []string{ReplyCacheLocal, ReplyCacheRedis})
	}
	if e.ReplyCache.RedisTimeout < 0 {
		bad("edge.reply_cache.redis_timeout", "must not be negative (0 is 20ms)")
	}
	if e.ReplyCache.SharedInRedis() && len(c.Store.Redis.Addresses) == 0 {
		bad("edge.reply_cache.shared", "redis needs store.redis.addresses, the Redis the edges share their replies in")
	}
	claimed := newClaims()
	e.secrets = checkClients(e.Clients, "edge.clients", claimed, bad)
	if e.ClientsFile != "" {
		checkClientsFile(e.ClientsFile, claimed, bad)
	}
	if e.RadSec.Enabled() {
		checkRadSec(e.RadSec, bad)
	}

	oneOf("store.backend", c.Store.Backend, []string{"embedded", "redis"})
	if c.Store.Backend == "embedded" && c.Store.Embedded.Path == "" {
		bad("store.embedded.path", "must not be empty")
	}
	if c.Store.Backend == "redis" || e.ReplyCache.SharedInRedis() {
		r := c.Store.Redis
		if len(r.Addresses) == 0 && c.Store.Backend == "redis" {
			bad("store.redis.addresses", "must list at least one host:port")
		}
		for i, a := range r.Addresses {
			addr(fmt.Sprintf("store.redis.addresses[%d]", i), a)
		}
		if !strings.HasPrefix(r.KeyPrefix, "{") || strings.Index(r.KeyPrefix, "}") < 2 {
			bad("store.redis.key_prefix", "%q must start with a {hash tag}, so that the data set lives in one Redis Cluster slot", r.KeyPrefix)
		}
		if r.PasswordFile != "" {
			if _, err := os.Stat(r.PasswordFile); err != nil {
				bad("store.redis.password_file", "%v", err)
			}
		}
	}
	switch c.Target {
	case "accounts", "dids":
		addr("grpc.listen", c.GRPC.Listen)
		if c.Store.Backend != "redis" {
			bad("store.backend", "-target=%s shares its store with other processes: use redis (embedded is for -target=all)", c.Target)
		}
	case "edge":
		addr("backends.accounts", c.Backends.Accounts)
		addr("backends.dids", c.Backends.DIDs)
	}
	if c.Target == "all" || c.Target == "edge" || c.Target == "cdr" {
		c.validateAccounting(bad)
	}
	if c.Backends.Timeout <= 0 {
		bad("backends.timeout", "must be positive")
	}
	if c.Backends.AuthenticateTimeout <= 0 {
		bad("backends.authenticate_timeout", "must be positive")
	}
	if cc := c.Backends.Cache; cc.MaxEntries < 0 {
		bad("backends.cache.max_entries", "must be 0 (off) or positive, got %d", cc.MaxEntries)
	} else if cc.MaxEntries > 0 && cc.TTL <= 0 {
		bad("backends.cache.ttl", "must be positive while the cache is on (max_entries > 0)")
	}
	for i, f := range c.Store.Bootstrap {
		if _, err := os.Stat(f); err != nil {
			bad(fmt.Sprintf("store.bootstrap[%d]", i), "%v", err)
		}
	}

	p := c.Password
	if p.MemoryKiB < 8*uint32(max(p.Threads, 1)) {
		bad("password.memory_kib", "must be at least 8 KiB per thread, got %d", p.MemoryKiB)
	}
	if p.Time == 0 {
		bad("password.time", "must be at least 1")
	}
	if p.Threads == 0 {
		bad("password.threads", "must be at least 1")
	}
	positive("password.cache_size", p.CacheSize)
	if p.MaxRunning < 0 {
		bad("password.max_running", "must not be negative (0 is one fewer than the CPUs, at least one)")
	}
	if p.MaxWaiting < 0 {
		bad("password.max_waiting", "must not be negative (0 is two per CPU)")
	}
	if p.CacheTTL <= 0 {
		bad("password.cache_ttl", "must be positive")
	}
	return errors.Join(errs...)
}

// oneOfIn reports v unless it is one of allowed.
func oneOfIn(bad func(key, format string, args ...any), key, v string, allowed []string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// validateAccounting checks the accounting keys of the targets that use them.
func (c *Config) validateAccounting(bad func(key, format string, args ...any)) {
	oneOf := func(key, v string, allowed []string) { oneOfIn(bad, key, v, allowed) }
	a := &c.Accounting
	if a.Log == "" {
		switch {
		case c.Target == "all":
			a.Log = "journal"
		case len(a.Kafka.Brokers) > 0 || c.Target == "cdr":
			a.Log = "kafka"
		default:
			a.Log = "none"
		}
	}
	oneOf("accounting.log", a.Log, []string{"journal", "kafka", "none"})
	switch {
	case a.Log == "none" && c.Target == "cdr":
		bad("accounting.log", "-target=cdr consumes the accounting log: use kafka")
	case a.Log == "journal" && c.Target != "all":
		bad("accounting.log", "the journal is one process's file: -target=%s needs kafka", c.Target)
	case a.Log == "journal":
		for key, v := range map[string]string{"dir": a.Journal.Dir, "cdr_dir": a.Journal.CDRDir, "ledger": a.Journal.Ledger} {
			if v == "" {
				bad("accounting.journal."+key, "must not be empty")
			}
		}
		if a.Journal.Settlement == "" && a.Journal.Ledger != "" {
			a.Journal.Settlement = filepath.Join(filepath.Dir(a.Journal.Ledger), "settlement.db")
		}
		if s := a.Journal.Settlement; s != "" && filepath.Clean(s) == filepath.Clean(a.Journal.Ledger) {
			bad("accounting.journal.settlement", "%q is also the ledger: each is a bbolt file of its own", s)
		}
		j := a.Journal
		if j.SegmentBytes <= 0 || j.RetentionBytes < j.SegmentBytes || j.CDRRetentionBytes < j.SegmentBytes {
			bad("accounting.journal", "need 0 < segment_bytes <= retention_bytes and cdr_retention_bytes, got %d, %d and %d", j.SegmentBytes, j.RetentionBytes, j.CDRRetentionBytes)
		}
		for key, pair := range map[string][2]int64{"max_bytes": {j.MaxBytes, j.RetentionBytes}, "cdr_max_bytes": {j.CDRMaxBytes, j.CDRRetentionBytes}} {
			if pair[0] != 0 && pair[0] < pair[1] {
				bad("accounting.journal."+key, "%d is below its retention (%d): 0 for no cap, or at least the retention", pair[0], pair[1])
			}
		}
	case a.Log == "kafka":
		if err := a.Kafka.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				key, reason, _ := strings.Cut(line, ": ")
				bad("accounting."+key, "%s", reason)
			}
		}
	}
	if c.Target == "cdr" && c.Store.Backend != "redis" {
		bad("store.backend", "-target=cdr keeps its done-marks and the called numbers in Redis: use redis")
	}
	if a.DedupeTTL <= 0 {
		bad("accounting.dedupe_ttl", "must be positive")
	}
	if a.DrainTimeout <= 0 {
		bad("accounting.drain_timeout", "must be positive")
	}
}

// claims are the address ranges and RadSec identities of the clients
// checked so far, each by its client's key: no two clients may share one.
type claims struct {
	prefixes   map[netip.Prefix]string
	identities map[string]string
}

func newClaims() *claims {
	return &claims{prefixes: map[netip.Prefix]string{}, identities: map[string]string{}}
}

// checkRadSec validates edge.radsec, loading its certificates so that a
// bad file is named here rather than at the edge's start.
func checkRadSec(r RadSecConfig, bad func(key, format string, args ...any)) {
	if _, _, err := net.SplitHostPort(r.Listen); err != nil {
		bad("edge.radsec.listen", "%q is not host:port: %v", r.Listen, err)
	}
	for key, v := range map[string]string{"cert_file": r.TLS.CertFile, "key_file": r.TLS.KeyFile, "client_ca_file": r.TLS.ClientCAFile} {
		if v == "" {
			bad("edge.radsec.tls."+key, "must be set: RadSec knows its clients by certificates a CA signed")
		}
	}
	if r.TLS.CertFile != "" && r.TLS.KeyFile != "" && r.TLS.ClientCAFile != "" {
		if _, err := r.TLS.ServerTLS(); err != nil {
			bad("edge.radsec.tls", "%v", err)
		}
	}
	if r.HandshakeTimeout < 0 {
		bad("edge.radsec.handshake_timeout", "must not be negative (0 is 10s)")
	}
	if r.MaxConnections < 0 {
		bad("edge.radsec.max_connections", "must not be negative (0 is 1024)")
	}
}

// checkClients validates a client list, naming each problem key under
// prefix, and returns the secrets by client name. claimed holds the
// address ranges and identities of the clients checked before, and gets
// this list's.
func checkClients(clients []ClientConfig, prefix string, claimed *claims, bad func(key, format string, args ...any)) map[string][]byte {
	oneOf := func(key, v string, allowed []string) { oneOfIn(bad, key, v, allowed) }
	secrets := map[string][]byte{}
	names := map[string]int{}
	for i, cl := range clients {
		key := fmt.Sprintf("%s[%d]", prefix, i)
		if cl.Name == "" {
			bad(key+".name", "must not be empty")
		} else if j, dup := names[cl.Name]; dup {
			bad(key+".name", "%q is also the name of %s[%d]", cl.Name, prefix, j)
		}
		names[cl.Name] = i
		if len(cl.CIDRs) == 0 && len(cl.RadSec.Identities) == 0 {
			bad(key+".cidrs", "must list at least one address range (or, for a RadSec client, set radsec.identities)")
		}
		for j, s := range cl.CIDRs {
			p, err := parsePrefix(s)
			if err != nil {
				bad(fmt.Sprintf("%s.cidrs[%d]", key, j), "%q is not an address or CIDR", s)
			} else if first, dup := claim(claimed.prefixes, p, key); dup {
				bad(fmt.Sprintf("%s.cidrs[%d]", key, j), "%s is also claimed by %s", p.Masked(), first)
			}
		}
		for j, id := range cl.RadSec.Identities {
			k := strings.ToLower(strings.TrimSpace(id))
			if k == "" {
				bad(fmt.Sprintf("%s.radsec.identities[%d]", key, j), "must not be empty")
			} else if first, dup := claimed.identities[k]; dup {
				bad(fmt.Sprintf("%s.radsec.identities[%d]", key, j), "%q is also %s's", id, first)
			} else {
				claimed.identities[k] = key
			}
		}
		switch {
		case len(cl.CIDRs) == 0 && (cl.Secret != "" || cl.SecretFile != ""):
			bad(key, "a RadSec-only client (no cidrs) uses RFC 6614's secret, \"radsec\": remove secret and secret_file")
		case len(cl.CIDRs) == 0:
		case cl.Secret != "" && cl.SecretFile != "":
			bad(key, "set secret or secret_file, not both")
		case cl.SecretFile != "":
			b, err := os.ReadFile(cl.SecretFile)
			if err != nil {
				bad(key+".secret_file", "%v", err)
			} else if s := bytes.TrimRight(b, "\r\n"); len(s) == 0 {
				bad(key+".secret_file", "%s is empty", cl.SecretFile)
			} else {
				secrets[cl.Name] = s
			}
		case cl.Secret == "":
			bad(key+".secret", "must not be empty (or set secret_file)")
		default:
			secrets[cl.Name] = []byte(cl.Secret)
		}
		if cl.MessageAuthenticator != "" {
			oneOf(key+".message_authenticator", cl.MessageAuthenticator, []string{"require", "auto", "off"})
		}
		checkRateLimit(cl.RateLimit, key+".rate_limit", bad)
		checkProfile(cl, key, bad)
	}
	return secrets
}

func checkRateLimit(r RateLimitConfig, key string, bad func(key, format string, args ...any)) {
	switch {
	case r.RequestsPerSecond < 0 || math.IsNaN(r.RequestsPerSecond) || math.IsInf(r.RequestsPerSecond, 0):
		bad(key+".requests_per_second", "%v is not a rate: give a positive number, or leave rate_limit unset for none", r.RequestsPerSecond)
	case r.Burst < 0:
		bad(key+".burst", "%d is negative", r.Burst)
	case r.Burst > 0 && r.RequestsPerSecond == 0:
		bad(key+".burst", "a burst without requests_per_second limits nothing: set both")
	}
}

// checkClientsFile validates edge.clients_file, whose clients the edge
// puts in one table with edge.clients, the ranges of which are claimed.
func checkClientsFile(path string, claimed *claims, bad func(key, format string, args ...any)) {
	clients, _, err := LoadClientsFile(path)
	if err != nil {
		bad("edge.clients_file", "%v", err)
		return
	}
	for i, cl := range clients {
		key := fmt.Sprintf("clients[%d] of the clients file", i)
		for j, p := range cl.Prefixes() {
			if first, dup := claim(claimed.prefixes, p, key); dup {
				bad("edge.clients_file", "clients[%d].cidrs[%d]: %s is also claimed by %s", i, j, p.Masked(), first)
			}
		}
		for j, id := range cl.RadSec.Identities {
			k := strings.ToLower(strings.TrimSpace(id))
			if first, dup := claimed.identities[k]; dup {
				bad("edge.clients_file", "clients[%d].radsec.identities[%d]: %q is also %s's", i, j, id, first)
			}
			claimed.identities[k] = key
		}
	}
}

// claim records that the client at key claims the address range p, or
// returns the key of the client that claimed it first. The edge's client
// table refuses a range claimed twice, since the secret would then depend
// on the order of the config: refused here, it cannot stop a start.
func claim(claimed map[netip.Prefix]string, p netip.Prefix, key string) (first string, dup bool) {
	p = p.Masked()
	if first, dup := claimed[p]; dup {
		return first, true
	}
	claimed[p] = key
	return "", false
}

// checkProfile validates a client's profile and its options block, which
// the profile decodes itself.
func checkProfile(cl ClientConfig, key string, bad func(key, format string, args ...any)) {
	known := profiles.Names()
	for _, k := range slices.Sorted(maps.Keys(cl.Options)) {
		switch {
		case !slices.Contains(known, k):
			bad(key+"."+k, "unknown key (a client takes name, cidrs, secret, secret_file, profile, message_authenticator, rate_limit, and the options of its profile under the profile's name: %s)", strings.Join(known, ", "))
		case k != cl.Profile:
			bad(key+"."+k, "set for a %q client", cl.Profile)
		}
	}
	if !slices.Contains(known, cl.Profile) {
		oneOfIn(bad, key+".profile", cl.Profile, known)
		return
	}
	if _, err := profiles.Options(cl.Profile, cl.ProfileOptions()); err != nil {
		var oe *nas.OptionError
		if errors.As(err, &oe) && oe.Key != "" {
			bad(key+"."+cl.Profile+"."+oe.Key, "%s", oe.Reason)
		} else {
			bad(key+"."+cl.Profile, "%v", err)
		}
	}
}

// clientsFile is the document of edge.clients_file.
type clientsFile struct {
	Clients []ClientConfig `yaml:"clients"`
}

// LoadClientsFile reads and validates a client-table file: `clients:` with
// the entries of edge.clients. The operator writes one into a Secret that
// edge pods mount; the edge reloads it when it changes.
func LoadClientsFile(path string) ([]ClientConfig, map[string][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return decodeClientsFile(b, path)
}

// decodeClientsFile is LoadClientsFile on b, the contents of the file at
// path: apart, so that FuzzLoad runs it on bytes.
func decodeClientsFile(b []byte, path string) ([]ClientConfig, map[string][]byte, error) {
	var f clientsFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range f.Clients {
		if p := f.Clients[i].SecretFile; p != "" && !filepath.IsAbs(p) {
			f.Clients[i].SecretFile = filepath.Join(filepath.Dir(path), p)
		}
	}
	var errs []error
	secrets := checkClients(f.Clients, "clients", newClaims(), func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", path, key, fmt.Sprintf(format, args...)))
	})
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return f.Clients, secrets, nil
}

// Secret returns the shared secret of a validated client.
func (e *EdgeConfig) Secret(client string) []byte { return e.secrets[client] }

// Prefixes returns a validated client's address ranges; a bare address is a /32 or /128.
func (c ClientConfig) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.CIDRs))
	for _, s := range c.CIDRs {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.ParsePrefix(s)
}
