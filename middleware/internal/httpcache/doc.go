// Package httpcache holds the decisions of an RFC 9111 shared cache as pure
// functions over header fields and times: may this response be stored, how
// long is it fresh, how old is it, may it answer this request. Nothing here
// reads a clock, the network or a store; the middleware calls these
// functions with the times it observed and does the I/O itself, so that
// every clause of the RFCs is tested here on its own.
//
// The split follows github.com/pquerna/cachecontrol: parsing (directives.go,
// targeted.go, date.go), storability (storable.go), freshness and age
// (freshness.go, age.go) and reuse (reuse.go) are separate steps, and each
// step names the section it implements.
//
// The package is internal: its types are shaped by what the middleware
// needs, and the middleware's Options are the supported way to choose a
// behaviour. Nothing here is specific to EMG.
package httpcache
