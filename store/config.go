package store

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// Defaults applied by Open to zero fields of Config.
const (
	// DefaultKeyPrefix is prepended to every key so that pattern deletes and
	// scans touch only what this cache wrote.
	DefaultKeyPrefix = "emgcache:"
	// DefaultTTL is the lifetime of an entry set with ttl 0: one hour.
	DefaultTTL = time.Hour
	// DefaultMaxEntryBytes is the largest value accepted: 100 MiB.
	DefaultMaxEntryBytes = 100 << 20
	// DefaultMaxMemoryBytes bounds the embedded backend like Redis'
	// maxmemory 256mb with allkeys-lru.
	DefaultMaxMemoryBytes = 256 << 20
	// DefaultClientCacheBytes bounds the client-side cache of a Cache: the
	// stores of all its Redis connections together.
	DefaultClientCacheBytes = 64 << 20
	// DefaultClientCacheTTL is how long a value may stay in the client-side
	// cache. Invalidation keeps it coherent; the TTL only bounds how long an
	// unused value holds memory.
	DefaultClientCacheTTL = 5 * time.Minute
	// DefaultOpTimeout bounds every Redis call that has no earlier deadline.
	DefaultOpTimeout = 500 * time.Millisecond
	// DefaultDialTimeout bounds one connection attempt: a TCP (and TLS)
	// handshake on a network where a round trip takes a millisecond, with
	// room for a SYN retransmit on a loaded host.
	DefaultDialTimeout = time.Second
	// DefaultConnWriteTimeout is how long a connection may go without
	// writing its pending commands or hearing back from Redis before it is
	// declared dead and closed, taking its client-side cache with it. It is
	// seconds, unlike OpTimeout, so that a stall of Redis (a fork, a slow
	// script, a large value in transit) costs the calls that waited on it,
	// not the connection: 10 s carries a 100 MiB value over a link of
	// 100 Mbit/s or more.
	DefaultConnWriteTimeout = 10 * time.Second
	// DefaultBreakerFailures is how many consecutive failures open the breaker.
	DefaultBreakerFailures = 5
	// DefaultBreakerOpenTimeout is how long the breaker stays open before it
	// lets one probe through: seconds, not gobreaker's 60 s, so a restarted
	// Redis is used again quickly.
	DefaultBreakerOpenTimeout = 2 * time.Second
	// DefaultBreakerProbeInterval is how often a node whose breaker opened
	// is sent a PING; the first answer closes its breaker, so a node that
	// is back is used again within about this long.
	DefaultBreakerProbeInterval = 100 * time.Millisecond
	// DefaultTopologyInterval is how often the primaries of a cluster or a
	// Sentinel set are read while every breaker is closed. While one is not,
	// they are read every probe interval, so that the keys of a failed
	// master move to its promoted replica within about that long.
	DefaultTopologyInterval = time.Second
	// MaxKeyBytes is the longest key accepted (after the prefix is added).
	MaxKeyBytes = 16 << 10
	// MaxPatternBytes is the longest pattern accepted by Scan and DeletePattern.
	MaxPatternBytes = 1 << 10
)

// Config configures Open. Its zero value is a working configuration: the
// embedded backend with the defaults above.
type Config struct {
	// URL selects the backend. Empty selects the embedded in-memory backend.
	// Otherwise it is read as rueidis.ParseURL reads it: redis://, rediss://
	// (TLS), unix://, several addr= parameters for a cluster and master_set=
	// for Sentinel. Credentials in the URL are never logged or reported.
	URL string

	// TLSConfig, when set, is used for connections to Redis instead of the
	// one rediss:// implies (which trusts the system roots), for example to
	// trust a private CA or present a client certificate.
	TLSConfig *tls.Config

	// KeyPrefix is prepended to every key. Empty means DefaultKeyPrefix. It
	// must not contain a hash tag ('{'), which would pin every key of a
	// cluster to one slot.
	KeyPrefix string

	// DefaultTTL is used by Set and friends when ttl is 0. Zero means
	// DefaultTTL (1 h).
	DefaultTTL time.Duration

	// MaxEntryBytes is the largest value accepted; larger ones get
	// ErrTooLarge before anything is sent. Zero means DefaultMaxEntryBytes.
	MaxEntryBytes int

	// MaxMemoryBytes bounds the heap the embedded backend's entries hold:
	// keys and values as the allocator rounds them, plus each entry's own
	// bookkeeping. Past it, approximately the least recently used entries
	// are evicted, as Redis' allkeys-lru does. The garbage of writes comes on
	// top: set a soft memory limit (debug.SetMemoryLimit, GOMEMLIMIT) of
	// about 1.25 times the bound plus what the rest of the program needs.
	// Zero means DefaultMaxMemoryBytes. Ignored for Redis, whose own
	// maxmemory applies.
	MaxMemoryBytes int64

	// ClientCacheBytes bounds the client-side cache of the Cache: rueidis
	// keeps a store per connection (several per node), and they share this
	// budget. Zero means DefaultClientCacheBytes; negative disables
	// client-side caching, so every read is a round trip.
	ClientCacheBytes int

	// ClientCacheTTL is the longest a value stays in the client-side cache.
	// Zero means DefaultClientCacheTTL.
	ClientCacheTTL time.Duration

	// OpTimeout bounds each Redis call whose context has no earlier
	// deadline. Zero means DefaultOpTimeout.
	OpTimeout time.Duration

	// DialTimeout bounds one connection attempt. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration

	// ConnWriteTimeout bounds how long a connection may fail to write or
	// get replies before it is closed and redialled (rueidis'
	// ConnWriteTimeout; also the timeout of its keep-alive PINGs). Zero
	// means DefaultConnWriteTimeout. It must exceed the longest time one
	// value takes on the wire: entries near MaxEntryBytes (100 MiB) need
	// seconds, and so does OpTimeout for the calls that move them.
	ConnWriteTimeout time.Duration

	// Breaker configures the circuit breakers, one per primary node.
	Breaker BreakerConfig

	// TopologyInterval is how often the primaries of a cluster or a
	// Sentinel set are read while all is well. Zero means
	// DefaultTopologyInterval.
	TopologyInterval time.Duration

	// StaleBytes, when positive, keeps a local copy of recently read values
	// (at most this many bytes) that Lookup serves, marked SourceStale, while
	// Redis is unavailable. Zero, the default, turns it off.
	StaleBytes int64

	// Codec encodes the values of GetValue, SetValue and the patterns
	// package. Nil means JSON. Values of a codec other than JSON carry its
	// name, so a Cache reading them with another codec gets ErrDecode
	// rather than a wrong value: every process sharing keys must agree.
	Codec Codec

	// DecodedSlots bounds how many decoded values GetValue and GetJSON keep
	// to share between the reads of one stored version of a key (a slot
	// each; see GetValue). Zero means DefaultDecodedSlots; it is rounded up
	// to a power of two. Negative turns sharing off: every read decodes
	// into a value of its caller's own.
	DecodedSlots int

	// Logger, when set, receives a warning for calls that fail because the
	// backend is unavailable (not for misses or a caller's own
	// cancellation): one record per operation every FailureLogInterval,
	// with the count of those it stood for, so that a Redis that is down
	// does not flood the log. Nil, the default, logs nothing; failures are
	// counted in Stats either way.
	Logger *slog.Logger

	// AdjustClientOption, when set, is called once with the rueidis options
	// the store built from the other fields, before the first client is
	// made, for what the store has no field of its own for: ClientName,
	// SendToReplicas, AuthCredentialsFn, Dialer settings. The store's
	// read-your-writes and bounded calls rest on its NewCacheStoreFn,
	// CacheSizeEachConn, DisableCache and RetryDelay; changing those is
	// unsupported. Ignored by the embedded backend.
	AdjustClientOption func(*rueidis.ClientOption)

	// WrapClient, when set, wraps each client the store makes, for
	// instrumentation such as rueidishook.WrapClient. Hits answered from
	// the client-side cache are served from process memory without a call
	// of the client, so the wrapper does not see them; Stats counts them.
	// Ignored by the embedded backend.
	WrapClient func(rueidis.Client) rueidis.Client

	// Hooks are called as reads are answered, for instrumentation such as
	// github.com/emgcache/emgcache/emgotel. Unlike WrapClient they see the
	// hits served from process memory, and they work on the embedded
	// backend. The zero value calls nothing.
	Hooks Hooks

	// envErr records a malformed variable seen by ConfigFromEnv so that Open
	// reports it instead of silently using a default.
	envErr error
}

// BreakerConfig configures the circuit breaker. Its zero value means the
// defaults.
type BreakerConfig struct {
	// ConsecutiveFailures opens the breaker. Zero means
	// DefaultBreakerFailures.
	ConsecutiveFailures uint32
	// OpenTimeout is how long the breaker stays open before it lets one
	// call through to test the node. Zero means DefaultBreakerOpenTimeout.
	OpenTimeout time.Duration
	// ProbeInterval is how often a node whose breaker is open is PINGed;
	// an answer closes the breaker at once. Zero means
	// DefaultBreakerProbeInterval.
	ProbeInterval time.Duration
}

// Environment variables read by ConfigFromEnv.
const (
	EnvURL              = "REDIS_URL"
	EnvKeyPrefix        = "EMGCACHE_KEY_PREFIX"
	EnvDefaultTTL       = "EMGCACHE_DEFAULT_TTL"
	EnvMaxEntryBytes    = "EMGCACHE_MAX_ENTRY_BYTES"
	EnvMaxMemoryBytes   = "EMGCACHE_MAX_MEMORY_BYTES"
	EnvClientCacheBytes = "EMGCACHE_CLIENT_CACHE_BYTES"
	EnvOpTimeout        = "EMGCACHE_OP_TIMEOUT"
	EnvDialTimeout      = "EMGCACHE_DIAL_TIMEOUT"
	EnvConnWriteTimeout = "EMGCACHE_CONN_WRITE_TIMEOUT"
	EnvStaleBytes       = "EMGCACHE_STALE_BYTES"
)

// ConfigFromEnv returns a Config read from the environment: REDIS_URL and
// the EMGCACHE_* variables above. Durations take Go syntax ("90s") or whole
// seconds ("3600"). Unset variables leave the field zero (the default). A
// malformed value is not silently ignored: Open reports it as
// ErrInvalidConfig.
func ConfigFromEnv() Config { return ConfigFromGetenv(os.Getenv) }

// ConfigFromGetenv is ConfigFromEnv with the variables read by getenv,
// for programs that take their environment as a function (to test it).
func ConfigFromGetenv(getenv func(string) string) Config {
	var cfg Config
	var errs []string
	cfg.URL = strings.TrimSpace(getenv(EnvURL))
	cfg.KeyPrefix = getenv(EnvKeyPrefix)
	// Values Open would refuse are refused here, where the message can name
	// the variable the operator set rather than the field it fills.
	if cfg.KeyPrefix != "" {
		if msg := keyPrefixProblem(cfg.KeyPrefix); msg != "" {
			errs = append(errs, fmt.Sprintf("%s=%q: %s", EnvKeyPrefix, cfg.KeyPrefix, msg))
		}
	}
	durVar := func(name string, dst *time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if secs, serr := strconv.ParseInt(v, 10, 64); serr == nil {
			d, err = time.Duration(secs)*time.Second, nil
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("%s=%q is not a duration", name, v))
		case d < 0:
			errs = append(errs, fmt.Sprintf("%s=%q is negative", name, v))
		default:
			*dst = d
		}
	}
	intVar := func(name string, dst *int64, negativeOK bool) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("%s=%q is not an integer", name, v))
		case n < 0 && !negativeOK:
			errs = append(errs, fmt.Sprintf("%s=%q is negative", name, v))
		default:
			*dst = n
		}
	}
	var maxEntry, clientCache int64
	durVar(EnvDefaultTTL, &cfg.DefaultTTL)
	durVar(EnvOpTimeout, &cfg.OpTimeout)
	durVar(EnvDialTimeout, &cfg.DialTimeout)
	durVar(EnvConnWriteTimeout, &cfg.ConnWriteTimeout)
	intVar(EnvMaxEntryBytes, &maxEntry, false)
	intVar(EnvMaxMemoryBytes, &cfg.MaxMemoryBytes, false)
	intVar(EnvClientCacheBytes, &clientCache, true) // negative turns it off
	intVar(EnvStaleBytes, &cfg.StaleBytes, false)
	cfg.MaxEntryBytes = int(maxEntry)
	cfg.ClientCacheBytes = int(clientCache)
	if len(errs) > 0 {
		cfg.envErr = fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(errs, "; "))
	}
	return cfg
}

// keyPrefixProblem says what is wrong with a key prefix, "" if nothing.
func keyPrefixProblem(prefix string) string {
	switch {
	case strings.ContainsAny(prefix, "{}"):
		return "contains a hash tag brace"
	case len(prefix) > MaxPatternBytes/2:
		return fmt.Sprintf("is longer than %d bytes", MaxPatternBytes/2)
	}
	return ""
}

// withDefaults validates cfg and fills zero fields with the defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.envErr != nil {
		return cfg, cfg.envErr
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultKeyPrefix
	}
	if msg := keyPrefixProblem(cfg.KeyPrefix); msg != "" {
		return cfg, fmt.Errorf("%w: key prefix %q %s", ErrInvalidConfig, cfg.KeyPrefix, msg)
	}
	type check struct {
		bad  bool
		what string
	}
	for _, c := range []check{
		{cfg.DefaultTTL < 0, "negative DefaultTTL"},
		{cfg.MaxEntryBytes < 0, "negative MaxEntryBytes"},
		{cfg.MaxMemoryBytes < 0, "negative MaxMemoryBytes"},
		{cfg.ClientCacheTTL < 0, "negative ClientCacheTTL"},
		{cfg.OpTimeout < 0, "negative OpTimeout"},
		{cfg.DialTimeout < 0, "negative DialTimeout"},
		{cfg.ConnWriteTimeout < 0, "negative ConnWriteTimeout"},
		{cfg.Breaker.OpenTimeout < 0, "negative Breaker.OpenTimeout"},
		{cfg.Breaker.ProbeInterval < 0, "negative Breaker.ProbeInterval"},
		{cfg.TopologyInterval < 0, "negative TopologyInterval"},
		{cfg.StaleBytes < 0, "negative StaleBytes"},
	} {
		if c.bad {
			return cfg, fmt.Errorf("%w: %s", ErrInvalidConfig, c.what)
		}
	}
	if cfg.DefaultTTL == 0 {
		cfg.DefaultTTL = DefaultTTL
	}
	if cfg.Codec == nil {
		cfg.Codec = JSON
	}
	if cfg.DecodedSlots == 0 {
		cfg.DecodedSlots = DefaultDecodedSlots
	}
	if cfg.MaxEntryBytes == 0 {
		cfg.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if cfg.MaxMemoryBytes == 0 {
		cfg.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if cfg.ClientCacheBytes == 0 {
		cfg.ClientCacheBytes = DefaultClientCacheBytes
	}
	if cfg.ClientCacheTTL == 0 {
		cfg.ClientCacheTTL = DefaultClientCacheTTL
	}
	if cfg.OpTimeout == 0 {
		cfg.OpTimeout = DefaultOpTimeout
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.ConnWriteTimeout == 0 {
		cfg.ConnWriteTimeout = DefaultConnWriteTimeout
	}
	if cfg.Breaker.ConsecutiveFailures == 0 {
		cfg.Breaker.ConsecutiveFailures = DefaultBreakerFailures
	}
	if cfg.Breaker.OpenTimeout == 0 {
		cfg.Breaker.OpenTimeout = DefaultBreakerOpenTimeout
	}
	if cfg.Breaker.ProbeInterval == 0 {
		cfg.Breaker.ProbeInterval = DefaultBreakerProbeInterval
	}
	if cfg.TopologyInterval == 0 {
		cfg.TopologyInterval = DefaultTopologyInterval
	}
	if cfg.URL != "" {
		if _, err := rueidis.ParseURL(cfg.URL); err != nil {
			return cfg, fmt.Errorf("%w: url: %s", ErrInvalidConfig, redactErr(err, cfg.URL))
		}
	}
	return cfg, nil
}

// RedactedURL returns the URL with any password replaced by "xxxxx", for
// logs and dashboards. An empty URL gives "" (the embedded backend).
func (cfg Config) RedactedURL() string {
	return redactURL(cfg.URL)
}
