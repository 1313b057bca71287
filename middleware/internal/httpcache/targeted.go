package httpcache

import (
	"net/http"
	"strings"
)

// Targeted fields (RFC 9213): Cache-Control for one class of caches. The
// most specific valid one present replaces Cache-Control and Expires
// entirely (§2.2); an invalid one is ignored as if absent.
const (
	CDNCacheControl = "Cdn-Cache-Control" // RFC 9213 §3, canonical form
	// SurrogateControl is the older field of the W3C Edge Architecture note
	// for reverse proxies, in Cache-Control syntax; CDNs still honour it,
	// so an origin written for one may rely on it. It is the least specific.
	SurrogateControl = "Surrogate-Control"
)

// Directives returns the response directives this cache obeys: those of
// the first of targeted (most specific first, canonical names) present in
// h as a valid Structured Fields Dictionary, else Cache-Control's. The
// second result is true when a targeted field was used, which also means
// Expires must be ignored.
func Directives(h http.Header, targeted []string) (Response, bool) {
	for _, name := range targeted {
		lines := h[name]
		if len(lines) == 0 {
			continue
		}
		if name == SurrogateControl {
			d := ParseCacheControl(lines)
			d.Source = name
			return d, true
		}
		if d, ok := ParseTargeted(name, lines); ok {
			return d, true
		}
	}
	return ParseCacheControl(h["Cache-Control"]), false
}

// ParseTargeted reads a targeted field (RFC 9213 §2.1): a Structured Fields
// Dictionary (RFC 8941 §3.2) whose keys are Cache-Control directives.
// Delta-seconds are Integers (past MaxDelta means MaxDelta), flags are
// Booleans (a bare key is true), the field names of no-cache and private a
// String. A directive whose value has another type is ignored (§2.1), and a
// no-cache or private that is not false counts unqualified unless it gives
// field names. false when the lines are not a valid Dictionary.
func ParseTargeted(name string, lines []string) (Response, bool) {
	members, ok := parseDictionary(strings.Join(lines, ", "))
	if !ok {
		return Response{}, false
	}
	d := emptyResponse(name)
	for _, m := range members {
		switch m.key {
		case "no-store":
			d.NoStore = d.NoStore || m.isTrue()
		case "no-cache":
			if m.kind == kindString && len(fieldNames(m.str)) > 0 {
				d.NoCacheFields = append(d.NoCacheFields, fieldNames(m.str)...)
			} else if m.kind != kindBool || m.boolean {
				d.NoCache = true
			}
		case "private":
			if m.kind == kindString && len(fieldNames(m.str)) > 0 {
				d.PrivateFields = append(d.PrivateFields, fieldNames(m.str)...)
			} else if m.kind != kindBool || m.boolean {
				d.Private = true
			}
		case "public":
			d.Public = d.Public || m.isTrue()
		case "must-understand":
			d.MustUnderstand = d.MustUnderstand || m.isTrue()
		case "must-revalidate":
			d.MustRevalidate = d.MustRevalidate || m.isTrue()
		case "proxy-revalidate":
			d.ProxyRevalidate = d.ProxyRevalidate || m.isTrue()
		case "max-age":
			d.MaxAge = m.delta(d.MaxAge)
		case "s-maxage":
			d.SMaxAge = m.delta(d.SMaxAge)
		case "stale-while-revalidate":
			d.StaleWhileRevalidate = m.delta(d.StaleWhileRevalidate)
		case "stale-if-error":
			d.StaleIfError = m.delta(d.StaleIfError)
		}
	}
	return d, true
}

type sfKind int

const (
	kindBool sfKind = iota
	kindInteger
	kindDecimal
	kindString
	kindToken
	kindBytes
	kindInnerList
)

// member is one Dictionary member: only the value's kind and the parts a
// cache directive can use are kept. A later member with the same key
// replaces an earlier one (RFC 8941 §4.2.2).
type member struct {
	key     string
	kind    sfKind
	boolean bool
	integer int64
	str     string
}

func (m member) isTrue() bool { return m.kind == kindBool && m.boolean }

// delta returns the member as delta-seconds, or prev when it is not a
// non-negative Integer.
func (m member) delta(prev int64) int64 {
	if m.kind != kindInteger || m.integer < 0 {
		return prev
	}
	return min(m.integer, MaxDelta)
}

// parseDictionary implements RFC 8941 §4.2.2 (parsing a Dictionary) with
// §4.2.3 (items and inner lists) and §4.2.3.2 (parameters), strictly: any
// deviation fails the whole field, as §4.2 requires.
func parseDictionary(s string) ([]member, bool) {
	p := sfParser{s: strings.Trim(s, " ")}
	var out []member
	for p.s != "" {
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		m := member{key: key, kind: kindBool, boolean: true}
		if p.peek() == '=' {
			p.s = p.s[1:]
			if !p.itemOrInnerList(&m) {
				return nil, false
			}
		} else if !p.parameters() {
			return nil, false
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i], replaced = m, true
			}
		}
		if !replaced {
			out = append(out, m)
		}
		p.ows()
		if p.s == "" {
			return out, true
		}
		if p.s[0] != ',' {
			return nil, false
		}
		p.s = p.s[1:]
		p.ows()
		if p.s == "" {
			return nil, false // a trailing comma
		}
	}
	return out, true
}

type sfParser struct{ s string }

func (p *sfParser) peek() byte {
	if p.s == "" {
		return 0
	}
	return p.s[0]
}

func (p *sfParser) ows() { p.s = strings.TrimLeft(p.s, " \t") }

// key: ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfParser) key() (string, bool) {
	c := p.peek()
	if !(c >= 'a' && c <= 'z' || c == '*') {
		return "", false
	}
	i := 1
	for i < len(p.s) {
		c := p.s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		i++
	}
	k := p.s[:i]
	p.s = p.s[i:]
	return k, true
}

func (p *sfParser) itemOrInnerList(m *member) bool {
	if p.peek() == '(' {
		p.s = p.s[1:]
		for {
			for p.peek() == ' ' {
				p.s = p.s[1:]
			}
			if p.peek() == ')' {
				p.s = p.s[1:]
				m.kind = kindInnerList
				return p.parameters()
			}
			var item member
			if !p.bareItem(&item) || !p.parameters() {
				return false
			}
			if c := p.peek(); c != ' ' && c != ')' {
				return false
			}
		}
	}
	return p.bareItem(m) && p.parameters()
}

func (p *sfParser) parameters() bool {
	for p.peek() == ';' {
		p.s = p.s[1:]
		for p.peek() == ' ' {
			p.s = p.s[1:]
		}
		if _, ok := p.key(); !ok {
			return false
		}
		if p.peek() == '=' {
			p.s = p.s[1:]
			var v member
			if !p.bareItem(&v) {
				return false
			}
		}
	}
	return true
}

func (p *sfParser) bareItem(m *member) bool {
	c := p.peek()
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return p.number(m)
	case c == '"':
		return p.str(m)
	case c == '*' || c|0x20 >= 'a' && c|0x20 <= 'z':
		return p.token(m)
	case c == ':':
		return p.bytes(m)
	case c == '?':
		if len(p.s) < 2 || p.s[1] != '0' && p.s[1] != '1' {
			return false
		}
		m.kind, m.boolean = kindBool, p.s[1] == '1'
		p.s = p.s[2:]
		return true
	}
	return false
}

// number: at most 15 integer digits, or a decimal of at most 12 integer
// and 3 fractional digits (RFC 8941 §4.2.4).
func (p *sfParser) number(m *member) bool {
	neg := false
	if p.peek() == '-' {
		neg = true
		p.s = p.s[1:]
	}
	i, dot := 0, -1
	var v int64
	for i < len(p.s) {
		c := p.s[i]
		if c == '.' && dot < 0 {
			if i > 12 {
				return false
			}
			dot = i
		} else if c >= '0' && c <= '9' {
			if dot < 0 {
				v = v*10 + int64(c-'0')
			}
		} else {
			break
		}
		i++
		if dot < 0 && i > 15 || dot >= 0 && i-dot-1 > 3 {
			return false
		}
	}
	if i == 0 || dot == 0 || dot == i-1 {
		return false
	}
	p.s = p.s[i:]
	if dot >= 0 {
		m.kind = kindDecimal
		return true
	}
	if neg {
		v = -v
	}
	m.kind, m.integer = kindInteger, v
	return true
}

func (p *sfParser) str(m *member) bool {
	var b strings.Builder
	for i := 1; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case c == '\\':
			i++
			if i == len(p.s) || p.s[i] != '"' && p.s[i] != '\\' {
				return false
			}
			b.WriteByte(p.s[i])
		case c == '"':
			p.s = p.s[i+1:]
			m.kind, m.str = kindString, b.String()
			return true
		case c < 0x20 || c > 0x7e:
			return false
		default:
			b.WriteByte(c)
		}
	}
	return false
}

func (p *sfParser) token(m *member) bool {
	i := 1
	for i < len(p.s) && (isTokenChar(p.s[i]) || p.s[i] == ':' || p.s[i] == '/') {
		i++
	}
	m.kind, m.str = kindToken, p.s[:i]
	p.s = p.s[i:]
	return true
}

func (p *sfParser) bytes(m *member) bool {
	for i := 1; i < len(p.s); i++ {
		c := p.s[i]
		if c == ':' {
			p.s = p.s[i+1:]
			m.kind = kindBytes
			return true
		}
		if !(c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return false
}
