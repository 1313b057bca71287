module github.com/emgcache/emgcache/patterns

go 1.25.0

replace (
	github.com/emgcache/emgcache/internal => ../internal
	github.com/emgcache/emgcache/store => ../store
)

require (
	github.com/emgcache/emgcache/internal v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/store v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/redis/rueidis v1.0.79 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
