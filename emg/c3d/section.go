package c3d

import (
	"fmt"
	"strings"
)

// paramEntry is a parameter before its group is known: groups may be
// defined after the parameters that belong to them.
type paramEntry struct {
	group int
	p     *Parameter
}

// parseParameters decodes the parameter section starting at off (its
// 4-byte preamble already read) and returns the groups in file order.
// Every length is checked against b before it is used. b is the file's
// first bytes and size its length: b may end before the file does, and any
// error is then only b's (Read then decodes the whole file instead).
func parseParameters(b []byte, size, off int, c codec, warn func(string, ...any)) ([]*Group, error) {
	var (
		groups  []*Group
		byID    = map[int]*Group{}
		entries []paramEntry
	)
	// The section ends after the number of blocks its preamble gives.
	// Entries are checked against the whole file, since writers miscount
	// blocks, but an entry starting past the end is none: some writers
	// leave a garbage link in the last entry instead of 0.
	end := off + int(b[off+2])*BlockSize
	if b[off+2] == 0 || end > size {
		end = size
	}
	if end > len(b) {
		return nil, errPrefix
	}
	a := &arena{bytes: make([]byte, 0, end-off)}
	p := off + 4
	for {
		if p+2 > end {
			if end == size && p < size {
				return nil, malformed("parameter section truncated at byte %d of %d", p, size)
			}
			break
		}
		nameLen, id := int(int8(b[p])), int(int8(b[p+1]))
		if nameLen == 0 || id == 0 {
			break // the terminating entry
		}
		locked := nameLen < 0
		nameLen = abs(nameLen)
		q := p + 2 + nameLen // the offset to the next entry
		if q+2 > len(b) {
			return nil, malformed("parameter section truncated in an entry name at byte %d", p)
		}
		name := latin1(b[p+2 : q])
		next := int(c.i16(b[q:]))
		body := q + 2
		if id < 0 {
			desc, err := description(b, body, name)
			if err != nil {
				return nil, err
			}
			g := &Group{ID: -id, Name: name, Description: desc, Locked: locked}
			if prev, dup := byID[g.ID]; dup {
				warn("group id %d defined twice (%q and %q); keeping the first", g.ID, prev.Name, g.Name)
			} else {
				byID[g.ID] = g
				groups = append(groups, g)
			}
		} else {
			param, err := parameterBody(b, body, name, c, a)
			if err != nil {
				return nil, err
			}
			param.Locked = locked
			entries = append(entries, paramEntry{group: id, p: param})
		}
		if next == 0 {
			break // the last entry
		}
		if next < 0 {
			return nil, malformed("parameter %q at byte %d links backwards (offset %d)", name, p, next)
		}
		p = q + next
	}

	names := map[*Group]map[string]bool{}
	for _, e := range entries {
		g := byID[e.group]
		if g == nil {
			warn("parameter %q belongs to group id %d, which is not defined", e.p.Name, e.group)
			g = &Group{ID: e.group, Name: fmt.Sprintf("GROUP%d", e.group)}
			byID[e.group] = g
			groups = append(groups, g)
		}
		e.p.Group = g.Name
		if names[g] == nil {
			names[g] = map[string]bool{}
		}
		if key := strings.ToUpper(e.p.Name); names[g][key] {
			warn("parameter %s:%s defined twice; the first one is used", g.Name, e.p.Name)
		} else {
			names[g][key] = true
		}
		g.Params = append(g.Params, e.p)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		key := strings.ToUpper(g.Name)
		if seen[key] {
			warn("group %s defined twice; the first one is used", g.Name)
		}
		seen[key] = true
	}
	return groups, nil
}

// index maps upper-case group and parameter names to the first of each.
type index map[string]map[string]*Parameter

func newIndex(groups []*Group) index {
	ix := index{}
	for _, g := range groups {
		gk := strings.ToUpper(g.Name)
		params := ix[gk]
		if params == nil {
			params = map[string]*Parameter{}
			ix[gk] = params
		}
		for _, p := range g.Params {
			if k := strings.ToUpper(p.Name); params[k] == nil {
				params[k] = p
			}
		}
	}
	return ix
}

// arena hands out the parameters of one file and their dimensions and
// values from a few shared allocations: a file has a hundred parameters or
// more, each small. Blocks are never grown in place, so what was handed out
// stays put.
type arena struct {
	params []Parameter
	dims   []int
	bytes  []byte
}

func (a *arena) param() *Parameter {
	if len(a.params) == cap(a.params) {
		a.params = make([]Parameter, 0, 64)
	}
	a.params = a.params[:len(a.params)+1]
	return &a.params[len(a.params)-1]
}

func (a *arena) ints(n int) []int {
	if len(a.dims)+n > cap(a.dims) {
		a.dims = make([]int, 0, max(n, 256))
	}
	a.dims = a.dims[:len(a.dims)+n]
	return a.dims[len(a.dims)-n : len(a.dims) : len(a.dims)]
}

// copy returns a copy of b. The first block is the parameter section's
// size, which its values normally fit.
func (a *arena) copy(b []byte) []byte {
	if len(a.bytes)+len(b) > cap(a.bytes) {
		a.bytes = make([]byte, 0, max(len(b), 4<<10))
	}
	a.bytes = append(a.bytes, b...)
	return a.bytes[len(a.bytes)-len(b) : len(a.bytes) : len(a.bytes)]
}

// parameterBody decodes a parameter's type, dimensions, data and
// description from body on.
func parameterBody(b []byte, body int, name string, c codec, a *arena) (*Parameter, error) {
	if body+2 > len(b) {
		return nil, malformed("parameter %q truncated before its type", name)
	}
	t, nDims := Type(int8(b[body])), int(b[body+1])
	switch t {
	case Char, Byte, Int16, Float:
	default:
		return nil, malformed("parameter %q has unknown type %d", name, int8(t))
	}
	dataOff := body + 2 + nDims
	if dataOff > len(b) {
		return nil, malformed("parameter %q truncated in its %d dimensions", name, nDims)
	}
	dims := a.ints(nDims)
	size := abs(int(t))
	for i := range dims {
		dims[i] = int(b[body+2+i])
		size *= dims[i]
		if size > len(b) { // dimensions are bytes, so this also keeps size from overflowing
			return nil, malformed("parameter %q claims %v elements of %d bytes, more than the file's %d bytes", name, dims[:i+1], abs(int(t)), len(b))
		}
	}
	if dataOff+size > len(b) {
		return nil, malformed("parameter %q claims %d bytes of values at byte %d, past the end of the file (%d bytes)", name, size, dataOff, len(b))
	}
	desc, err := description(b, dataOff+size, name)
	if err != nil {
		return nil, err
	}
	p := a.param()
	*p = Parameter{Name: name, Description: desc, Type: t, Dims: dims, data: a.copy(b[dataOff : dataOff+size]), codec: c}
	return p, nil
}

// description decodes a length-prefixed description at off.
func description(b []byte, off int, name string) (string, error) {
	if off+1 > len(b) {
		return "", malformed("entry %q truncated before its description", name)
	}
	n := int(b[off])
	if off+1+n > len(b) {
		return "", malformed("entry %q claims a %d-byte description past the end of the file", name, n)
	}
	return latin1(b[off+1 : off+1+n]), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
