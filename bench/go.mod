module github.com/emgcache/emgcache/bench

go 1.26.0

replace (
	github.com/emgcache/emgcache/codec/msgpack => ../codec/msgpack
	github.com/emgcache/emgcache/emg => ../emg
	github.com/emgcache/emgcache/emgkey => ../emgkey
	github.com/emgcache/emgcache/internal => ../internal
	github.com/emgcache/emgcache/middleware => ../middleware
	github.com/emgcache/emgcache/patterns => ../patterns
	github.com/emgcache/emgcache/store => ../store
)

require (
	github.com/emgcache/emgcache/codec/msgpack v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/emg v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/middleware v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/patterns v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/store v0.0.0-00010101000000-000000000000
	github.com/go-redis/cache/v9 v9.0.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/redis/rueidis v1.0.79
	modernc.org/sqlite v1.62.0
)

require gonum.org/v1/gonum v0.17.0 // indirect

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/emgcache/emgcache/emgkey v0.0.0-00010101000000-000000000000 // indirect
	github.com/emgcache/emgcache/internal v0.0.0-00010101000000-000000000000 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.13.6 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/vmihailenco/go-tinylfu v0.2.2 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
