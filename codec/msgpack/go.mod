module github.com/emgcache/emgcache/codec/msgpack

go 1.25.0

replace (
	github.com/emgcache/emgcache/internal => ../../internal
	github.com/emgcache/emgcache/store => ../../store
)

require (
	github.com/emgcache/emgcache/store v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/emgcache/emgcache/internal v0.0.0-00010101000000-000000000000 // indirect
	github.com/redis/rueidis v1.0.79 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
