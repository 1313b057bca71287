module github.com/emgcache/emgcache/health/browsertest

go 1.26.0

replace (
	github.com/emgcache/emgcache/emgkey => ../../emgkey
	github.com/emgcache/emgcache/health => ../
	github.com/emgcache/emgcache/internal => ../../internal
	github.com/emgcache/emgcache/middleware => ../../middleware
	github.com/emgcache/emgcache/store => ../../store
)

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/emgcache/emgcache/health v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/store v0.0.0-00010101000000-000000000000
	github.com/gorilla/mux v1.8.1
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/emgcache/emgcache/emgkey v0.0.0-00010101000000-000000000000 // indirect
	github.com/emgcache/emgcache/internal v0.0.0-00010101000000-000000000000 // indirect
	github.com/emgcache/emgcache/middleware v0.0.0-00010101000000-000000000000 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/redis/rueidis v1.0.79 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
