package client_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/emgcache/emgcache/health/client"
	"github.com/emgcache/emgcache/store"
)

// jsonShape lists the JSON fields of t, nested ones as "outer.inner", each
// with the kind it decodes from, so that two types can be compared by what
// travels rather than by their Go names.
func jsonShape(t reflect.Type, prefix string, out map[string]string) map[string]string {
	if out == nil {
		out = map[string]string{}
	}
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		prefix += "[]"
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() == "time" {
		out[prefix] = t.Kind().String()
		if t.PkgPath() == "time" {
			out[prefix] = t.String()
		}
		return out
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		jsonShape(f.Type, prefix+"."+name, out)
	}
	return out
}

// The client keeps its own copies of the server's result types, so that
// it links neither the Redis client nor the breaker; this holds the copies
// to the originals, field by JSON field.
func TestResultsMatchTheStoreTypes(t *testing.T) {
	tests := []struct {
		name          string
		client, store any
	}{
		{"health", client.Health{}, store.Health{}},
		{"stats", client.Stats{}, store.Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := jsonShape(reflect.TypeOf(tt.store), "", nil)
			got := jsonShape(reflect.TypeOf(tt.client), "", nil)
			assert.NotEmpty(t, want)
			assert.Equal(t, want, got, "client.%T and store.%T decode different JSON", tt.client, tt.store)
		})
	}
}
