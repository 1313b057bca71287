package middleware

import (
	"context"
	"hash/maphash"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
)

func memoCache(t *testing.T) *store.Cache {
	t.Helper()
	c, err := store.Open(context.Background(), store.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The entry memo hands back the entry decoded before only for the very
// string the store handed out then: a value written again, even with the
// same bytes, is decoded anew, and a deleted one is a miss.
func TestEntryMemoFollowsTheStoredValue(t *testing.T) {
	ctx := context.Background()
	cache := memoCache(t)
	m := newResponseCache(cache, Options{}, time.Now)
	r := httptest.NewRequest(http.MethodGet, "/api/emg/analysis/"+testHash, nil)
	r.SetPathValue("file_hash", testHash)
	k, up, ok := m.key(budgeted(r))
	require.True(t, ok)
	require.True(t, up)
	put := func(body string) {
		t.Helper()
		raw := encodeEntry(http.StatusOK, http.Header{"Content-Type": {"text/plain"}}, []byte(body), time.Now(), lifetime{fresh: time.Hour})
		require.NoError(t, cache.Set(ctx, k.base, raw, time.Hour))
	}

	put("one")
	first := m.lookup(budgeted(r), &k, true).entry
	require.NotNil(t, first)
	assert.Equal(t, "one", first.body)
	assert.Same(t, first, m.lookup(budgeted(r), &k, true).entry, "a second read of the same stored string decodes nothing")

	put("one")
	again := m.lookup(budgeted(r), &k, true).entry
	require.NotNil(t, again)
	assert.NotSame(t, first, again, "a value written again is another string: decoded again")

	put("two")
	assert.Equal(t, "two", m.lookup(budgeted(r), &k, true).entry.body)

	_, err := cache.Delete(ctx, k.base)
	require.NoError(t, err)
	lk := m.lookup(budgeted(r), &k, true)
	assert.Nil(t, lk.entry)
	assert.Equal(t, fwdURIMiss, lk.fwd)
}

// The memo holds its entries weakly: once nobody uses an entry, the GC
// may take it and the next read decodes the stored value again, with the
// same result.
func TestEntryMemoKeepsNothingAlive(t *testing.T) {
	em := newEntryMemo()
	raw := string(encodeEntry(http.StatusOK, http.Header{}, []byte("body"), time.Now(), lifetime{fresh: time.Hour}))
	e, err := em.decode("k", raw)
	require.NoError(t, err)
	slot := &em.slots[maphash.String(em.seed, "k")&(memoSlots-1)]
	require.NotNil(t, slot.Load())
	require.Same(t, e, slot.Load().Value())
	e = nil
	runtime.GC()
	assert.Nil(t, slot.Load().Value(), "the memo alone kept the entry alive")
	e, err = em.decode("k", raw)
	require.NoError(t, err)
	assert.Equal(t, "body", e.body)
}

// The key memo gives every request the key keyFor computes for it, and an
// invalidation, which replaces the namespace's version, a new one; for a
// KeyFunc value that goes into keys as it is, and for one that is hashed.
func TestKeyMemoMatchesKeyFor(t *testing.T) {
	for _, value := range []string{testHash, "not plain: /ü"} {
		t.Run(value, func(t *testing.T) {
			testKeyMemoMatchesKeyFor(t, value)
		})
	}
}

func testKeyMemoMatchesKeyFor(t *testing.T, value string) {
	ctx := context.Background()
	cache := memoCache(t)
	m := newResponseCache(cache, Options{KeyHeaders: []string{"Accept-Language"}}, time.Now)
	req := func(target, lang string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.SetPathValue("file_hash", value)
		if lang != "" {
			r.Header.Set("Accept-Language", lang)
		}
		return r
	}
	want := func(r *http.Request) requestKey {
		t.Helper()
		ns, ok := m.cfg.namespaceFor(value)
		require.True(t, ok)
		version, err := cache.NamespaceVersion(ctx, ns)
		require.NoError(t, err)
		k, ok := keyFor(r, m.cfg.keyPrefix, value, ns, version, m.cfg.keyHeaders, m.cfg.host)
		require.True(t, ok)
		return k
	}
	path := "/api/emg/analysis/" + testHash
	seen := map[string]bool{}
	for _, r := range []*http.Request{req(path, ""), req(path+"?a=1", ""), req(path+"?a=2", ""), req(path, "de"), req(strings.ToUpper(path), "")} {
		for range 2 { // computed, then remembered
			k, up, ok := m.key(budgeted(r))
			require.True(t, ok)
			require.True(t, up)
			assert.Equal(t, want(r), k, r.URL.String())
		}
		k, _, _ := m.key(budgeted(r))
		assert.False(t, seen[k.base], "two requests share %s", k.base)
		seen[k.base] = true
	}
	r := req(path, "")
	before, _, _ := m.key(budgeted(r))
	require.NoError(t, m.Invalidate(ctx, value))
	after, _, _ := m.key(budgeted(r))
	assert.NotEqual(t, before.base, after.base)
	assert.NotEqual(t, before.version, after.version)
	assert.Equal(t, want(r), after)
}

// A vary record is decoded once per stored string too, and a new record
// at the base key (the Vary list changed, or the URI was invalidated and
// filled again) is read as the new one.
func TestVaryMemoFollowsTheStoredRecord(t *testing.T) {
	ctx := context.Background()
	cache := memoCache(t)
	m := newResponseCache(cache, Options{}, time.Now)
	r := httptest.NewRequest(http.MethodGet, "/api/emg/analysis/"+testHash, nil)
	r.SetPathValue("file_hash", testHash)
	r.Header.Set("Accept", "text/csv")
	k, _, ok := m.key(budgeted(r))
	require.True(t, ok)
	putRecord := func(names ...string) *varyRecord {
		t.Helper()
		rec := &varyRecord{names: names}
		rec.nonce[0] = byte(len(names))
		require.NoError(t, cache.Set(ctx, k.base, appendVaryRecord(nil, rec), time.Hour))
		return rec
	}
	putRecord("Accept")
	first := m.lookup(budgeted(r), &k, true)
	require.NotNil(t, first.record)
	assert.Equal(t, []string{"Accept"}, first.record.names)
	assert.Equal(t, fwdVaryMiss, first.fwd)
	again := m.lookup(budgeted(r), &k, true)
	assert.Same(t, first.record, again.record)
	assert.Equal(t, first.key, again.key)

	putRecord("Accept", "Accept-Language")
	changed := m.lookup(budgeted(r), &k, true)
	require.NotNil(t, changed.record)
	assert.Equal(t, []string{"Accept", "Accept-Language"}, changed.record.names)
	assert.NotEqual(t, first.key, changed.key, "the variant key follows the new record")
}
