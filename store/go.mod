module github.com/emgcache/emgcache/store

go 1.25.0

replace github.com/emgcache/emgcache/internal => ../internal

require (
	github.com/emgcache/emgcache/internal v0.0.0-00010101000000-000000000000
	github.com/redis/rueidis v1.0.79
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
