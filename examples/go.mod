module github.com/emgcache/emgcache/examples

go 1.26.0

replace (
	github.com/emgcache/emgcache/emg => ../emg
	github.com/emgcache/emgcache/emgkey => ../emgkey
	github.com/emgcache/emgcache/health => ../health
	github.com/emgcache/emgcache/internal => ../internal
	github.com/emgcache/emgcache/middleware => ../middleware
	github.com/emgcache/emgcache/patterns => ../patterns
	github.com/emgcache/emgcache/store => ../store
)

require (
	github.com/emgcache/emgcache/emg v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/emgkey v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/emgotel v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/health v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/middleware v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/patterns v0.0.0-00010101000000-000000000000
	github.com/emgcache/emgcache/store v0.0.0-00010101000000-000000000000
	github.com/gorilla/mux v1.8.1
	github.com/mattn/go-isatty v0.0.24
	github.com/prometheus/client_golang v1.25.0
	github.com/stretchr/testify v1.12.1
	go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.72.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/exporters/prometheus v0.69.0
	go.opentelemetry.io/otel/exporters/stdout/stdouttrace v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
	go.uber.org/goleak v1.3.0
	modernc.org/sqlite v1.62.0
)

require gonum.org/v1/gonum v0.17.0 // indirect

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/emgcache/emgcache/internal v0.0.0-00010101000000-000000000000 // indirect
	github.com/felixge/httpsnoop v1.1.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/otlptranslator v1.0.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/redis/rueidis v1.0.79 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

replace github.com/emgcache/emgcache/emgotel => ../emgotel
