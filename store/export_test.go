package store

import "testing"

// SetTypedHooks installs the typed tier's test hooks until t ends:
// afterRead between a typed read's GetString and its decode, fill when a
// reader finds a value not decoded yet. Nil leaves a hook unset.
func SetTypedHooks(t *testing.T, afterRead func(key string), fill func()) {
	t.Cleanup(func() { hookAfterRead, hookFill = nil, nil })
	hookAfterRead, hookFill = afterRead, fill
}

// DecodedEntries counts the typed tier's occupied slots.
func DecodedEntries(c *Cache) int {
	n := 0
	if tb := c.typed.table.Load(); tb != nil {
		for i := range tb.slots {
			if tb.slots[i].Load() != nil {
				n++
			}
		}
	}
	return n
}
