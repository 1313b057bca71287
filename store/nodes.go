package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// The failure domain of a key is the primary that serves it: the owner of
// its slot in a cluster, the current master under Sentinel, the one server
// otherwise. Each primary is a node with its own breaker, so a node that
// fails or stalls costs only its own keys, and only while it is down.

// node is one primary. Its address and identity are fixed; a primary that
// takes over slots it did not own (a promoted replica) is a new node with a
// fresh breaker.
type node struct {
	addr string
	// client talks to this node alone (cluster), or is the backend's client
	// (standalone, Sentinel, or a cluster node the client does not know yet).
	client atomic.Pointer[rueidis.Client]
	// direct says client is the node's own, so that a MOVED reply is retried
	// through the cluster client, which follows it.
	direct  atomic.Bool
	br      atomic.Pointer[breaker]
	probing atomic.Bool
	// heard is when the node last answered (Unix ns); pinging says a
	// heartbeat PING is out.
	heard   atomic.Int64
	pinging atomic.Bool
}

func (n *node) breaker() *breaker { return n.br.Load() }

// answered notes that the node answered a call sent at sent. The send
// time, not the reply's arrival, is what counts: a reply read late by a
// starved process must not make a node that has since stalled look alive.
func (n *node) answered(sent time.Time) {
	t := sent.UnixNano()
	for {
		old := n.heard.Load()
		if t <= old || n.heard.CompareAndSwap(old, t) {
			return
		}
	}
}

// maxSilence is how long a node may go without answering before the
// client-side cache stops serving its keys. Redis sends invalidations in
// order with replies, and flushes them to every connection each time round
// its event loop; a node that stalls right after acknowledging a write may
// not have told the other connections yet, and while it is silent nobody
// can know. Bounding the silence bounds how stale a value served from
// memory can be, a stall or a pause included.
const maxSilence = 750 * time.Millisecond

// heartbeatInterval is how long a node may go without answering a call
// before it is sent a PING, so that an idle node whose keys are all served
// from memory still proves it is alive.
const heartbeatInterval = 150 * time.Millisecond

// live reports whether the node answered within maxSilence before now.
func (n *node) live(now int64) bool { return now-n.heard.Load() <= int64(maxSilence) }

// topology maps keys to nodes. It is replaced whole, never changed.
type topology struct {
	single    *node                // standalone and Sentinel
	slots     *[clusterSlots]*node // cluster
	primaries []*node
}

func (t *topology) of(key string) *node {
	if t.single != nil {
		return t.single
	}
	if n := t.slots[keySlot(key)]; n != nil {
		return n
	}
	// A slot no primary serves (a cluster losing a master it cannot
	// replace): the first primary's breaker hears about it, and the
	// cluster client routes the call.
	return t.primaries[0]
}

func (t *topology) has(n *node) bool {
	for _, p := range t.primaries {
		if p == n {
			return true
		}
	}
	return false
}

// nodeSet tracks the primaries of one backend and their breakers: it
// follows the topology, probes nodes whose breaker opened, and gives a node
// that answers again a fresh breaker.
type nodeSet struct {
	b     *redisBackend
	cfg   Config
	topo  atomic.Pointer[topology]
	trips atomic.Uint64
	// kick asks the topology loop for a refresh now.
	kick chan struct{}
	// mu orders spawn with close: once close has closed stop, spawn
	// starts nothing, so that every goroutine's wg.Add happens before
	// close's wg.Wait.
	mu   sync.Mutex
	stop chan struct{}
	wg   sync.WaitGroup
}

func newNodeSet(b *redisBackend, cfg Config, addr string) *nodeSet {
	s := &nodeSet{b: b, cfg: cfg, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	n := s.newNode(addr, nil, false)
	s.topo.Store(&topology{single: n, primaries: []*node{n}})
	return s
}

func (s *nodeSet) newNode(addr string, cl rueidis.Client, direct bool) *node {
	n := &node{addr: addr}
	n.answered(time.Now())
	if cl != nil {
		n.client.Store(&cl)
	}
	n.direct.Store(direct)
	n.br.Store(s.newBreaker(n))
	return n
}

func (s *nodeSet) newBreaker(n *node) *breaker {
	return newBreaker(s.cfg.Breaker, func() {
		s.trips.Add(1)
		s.opened(n)
	})
}

// of returns the node that serves key now.
func (s *nodeSet) of(key string) *node { return s.topo.Load().of(key) }

// requestRefresh asks for a topology refresh without waiting for it.
func (s *nodeSet) requestRefresh() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// opened starts probing n, once, and looks for a new owner of its keys.
func (s *nodeSet) opened(n *node) {
	s.requestRefresh()
	if !n.probing.CompareAndSwap(false, true) {
		return
	}
	if !s.spawn(func() { s.probe(n) }) {
		n.probing.Store(false)
	}
}

// spawn runs fn in a goroutine that close waits for, and reports whether
// it did; once close has begun it does not. Breakers open on request
// goroutines, at any time, also while the backend closes.
func (s *nodeSet) spawn(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stop:
		return false
	default:
	}
	s.wg.Go(fn)
	return true
}

// probe PINGs n every ProbeInterval while its breaker is not closed. The
// first answer gives n a fresh, closed breaker: a node back from a crash, a
// stall or a pause is used again within one interval, whatever
// Breaker.OpenTimeout says. Probing ends when n no longer serves any slot.
func (s *nodeSet) probe(n *node) {
	defer n.probing.Store(false)
	t := time.NewTicker(s.cfg.Breaker.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if !s.topo.Load().has(n) || n.breaker().closed() {
			return
		}
		cl := s.clientOf(n)
		if cl == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
		sent := time.Now()
		err := cl.Do(hide(ctx), cl.B().Ping().Build()).Error()
		cancel()
		if err == nil {
			n.answered(sent)
			n.br.Store(s.newBreaker(n))
			return
		}
	}
}

// heartbeat PINGs every primary that has not answered for
// heartbeatInterval, one PING at a time per node.
func (s *nodeSet) heartbeat() {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	var pings sync.WaitGroup
	defer pings.Wait()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		for _, n := range s.topo.Load().primaries {
			if now-n.heard.Load() < int64(heartbeatInterval) || !n.pinging.CompareAndSwap(false, true) {
				continue
			}
			cl := s.clientOf(n)
			if cl == nil {
				n.pinging.Store(false)
				continue
			}
			pings.Go(func() {
				defer n.pinging.Store(false)
				ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
				defer cancel()
				sent := time.Now()
				if cl.Do(hide(ctx), cl.B().Ping().Build()).Error() == nil {
					n.answered(sent)
				}
			})
		}
	}
}

func (s *nodeSet) clientOf(n *node) rueidis.Client {
	if p := n.client.Load(); p != nil {
		return *p
	}
	cl, err := s.b.c()
	if err != nil {
		return nil
	}
	return cl
}

// degraded reports whether some primary's breaker is not closed, which is
// when the topology is worth watching closely.
func (s *nodeSet) degraded() bool {
	for _, n := range s.topo.Load().primaries {
		if !n.breaker().closed() {
			return true
		}
	}
	return false
}

// watch follows the topology of a cluster or a Sentinel set: every
// TopologyInterval, and every ProbeInterval while a breaker is not closed
// or after a request, so that a promoted replica serves its keys (with a
// fresh breaker) soon after its promotion.
func (s *nodeSet) watch() {
	for {
		wait := s.cfg.TopologyInterval
		if s.degraded() {
			wait = s.cfg.Breaker.ProbeInterval
		}
		select {
		case <-s.stop:
			return
		case <-s.kick:
		case <-time.After(wait):
		}
		_ = s.refresh()
	}
}

// refresh reads the topology once.
func (s *nodeSet) refresh() error {
	cl, err := s.b.c()
	if err != nil {
		return err
	}
	if cl.Mode() != rueidis.ClientModeCluster {
		return s.refreshSingle(cl)
	}
	return s.refreshCluster(cl)
}

// refreshSingle follows the master of a Sentinel set (or the one server):
// a new address is a new node.
func (s *nodeSet) refreshSingle(cl rueidis.Client) error {
	var addr string
	for a := range cl.Nodes() {
		addr = a
	}
	old := s.topo.Load()
	if addr == "" || (old.single.addr == addr && old.single.client.Load() != nil) {
		return nil
	}
	var n *node
	if old.single.addr == addr {
		n = old.single
		n.client.Store(&cl)
	} else {
		n = s.newNode(addr, cl, false)
	}
	s.topo.Store(&topology{single: n, primaries: []*node{n}})
	return nil
}

// refreshCluster reads CLUSTER SLOTS from a node that answers, preferring
// primaries whose breakers are closed, and rebuilds the slot map. A primary
// keeps its node (and breaker) while it keeps serving; an address that
// starts serving slots gets a new node. Entries of the client-side cache
// whose slot changed owner are dropped: the old owner's connection, if it
// still lives, no longer hears of their changes.
func (s *nodeSet) refreshCluster(cl rueidis.Client) error {
	old := s.topo.Load()
	clients := cl.Nodes()
	var ask []string
	for _, n := range old.primaries {
		if n.breaker().closed() && n.addr != "" {
			ask = append(ask, n.addr)
		}
	}
	for a := range clients {
		ask = append(ask, a)
	}
	var ranges []slotRange
	var lastErr error = errors.New("no node to ask")
	seen := make(map[string]bool, len(ask))
	for _, a := range ask {
		nc, ok := clients[a]
		if !ok || seen[a] {
			continue
		}
		seen[a] = true
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
		msgs, err := nc.Do(hide(ctx), nc.B().ClusterSlots().Build()).ToArray()
		cancel()
		if err == nil {
			ranges, err = parseClusterSlots(msgs, a)
		}
		if err == nil && len(ranges) > 0 {
			break
		}
		ranges, lastErr = nil, fmt.Errorf("cluster slots from %s: %w", a, err)
	}
	if ranges == nil {
		return lastErr
	}
	prev := make(map[string]*node, len(old.primaries))
	for _, n := range old.primaries {
		prev[n.addr] = n
	}
	t := &topology{slots: new([clusterSlots]*node)}
	byAddr := make(map[string]*node)
	for _, r := range ranges {
		n := byAddr[r.addr]
		if n == nil {
			if n = prev[r.addr]; n == nil || old.slots == nil {
				n = s.newNode(r.addr, nil, false)
			}
			if nc, ok := clients[r.addr]; ok {
				n.client.Store(&nc)
				n.direct.Store(true)
			} else {
				// Not yet known to the client: route through it.
				n.client.Store(&cl)
				n.direct.Store(false)
			}
			byAddr[r.addr] = n
			t.primaries = append(t.primaries, n)
		}
		for i := r.lo; i <= r.hi; i++ {
			t.slots[i] = n
		}
	}
	if old.slots != nil {
		var moved []bool
		for i := range t.slots {
			if t.slots[i] != old.slots[i] {
				if moved == nil {
					moved = make([]bool, clusterSlots)
				}
				moved[i] = true
			}
		}
		if moved != nil {
			s.b.caches.forgetWhere(func(key string) bool { return moved[keySlot(key)] })
		}
	}
	if len(t.primaries) == 0 {
		return errors.New("cluster serves no slots")
	}
	s.topo.Store(t)
	return nil
}

type slotRange struct {
	lo, hi int
	addr   string
}

// parseClusterSlots reads a CLUSTER SLOTS reply: [lo, hi, [ip, port, id],
// replicas...] per range. An empty ip means the node that was asked.
func parseClusterSlots(msgs []rueidis.RedisMessage, asked string) ([]slotRange, error) {
	askedHost, _, _ := net.SplitHostPort(asked)
	out := make([]slotRange, 0, len(msgs))
	for _, m := range msgs {
		e, err := m.ToArray()
		if err != nil || len(e) < 3 {
			return nil, fmt.Errorf("unexpected slot range %v", m)
		}
		lo, err1 := e[0].AsInt64()
		hi, err2 := e[1].AsInt64()
		master, err3 := e[2].ToArray()
		if err1 != nil || err2 != nil || err3 != nil || len(master) < 2 || lo < 0 || hi >= clusterSlots || lo > hi {
			return nil, fmt.Errorf("unexpected slot range %v", m)
		}
		host, _ := master[0].ToString()
		port, err := master[1].AsInt64()
		if err != nil {
			return nil, fmt.Errorf("unexpected slot range %v", m)
		}
		if host == "" || host == "?" {
			host = askedHost
		}
		out = append(out, slotRange{lo: int(lo), hi: int(hi), addr: net.JoinHostPort(host, strconv.FormatInt(port, 10))})
	}
	return out, nil
}

// NodeState is one primary's state as Stats reports it.
type NodeState struct {
	Addr    string       `json:"addr"`
	Breaker BreakerState `json:"breaker_state"`
}

// states reports every primary, and the worst of their breakers: open if
// any is open, else half-open if any is, else closed.
func (s *nodeSet) states() ([]NodeState, BreakerState) {
	worst := BreakerClosed
	prims := s.topo.Load().primaries
	out := make([]NodeState, 0, len(prims))
	for _, n := range prims {
		st := n.breaker().current()
		out = append(out, NodeState{Addr: n.addr, Breaker: st})
		switch {
		case st == BreakerOpen:
			worst = BreakerOpen
		case st == BreakerHalfOpen && worst == BreakerClosed:
			worst = BreakerHalfOpen
		}
	}
	return out, worst
}

// close stops the node set's goroutines and waits for them.
func (s *nodeSet) close() {
	s.mu.Lock()
	close(s.stop)
	s.mu.Unlock()
	s.wg.Wait()
}
