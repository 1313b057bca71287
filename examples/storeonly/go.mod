module github.com/emgcache/emgcache/examples/storeonly

go 1.25.0
