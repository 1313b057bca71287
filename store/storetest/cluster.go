package storetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// clusterSlots is the fixed number of hash slots of a Redis Cluster.
	clusterSlots = 16384
	// clusterTimeout bounds the wait for the nodes to agree, when the
	// caller's context allows longer. Three local nodes agree within about
	// a second; twenty leave room for a loaded machine.
	clusterTimeout = 20 * time.Second
	// defaultNodeTimeout is the cluster-node-timeout of ClusterOptions'
	// zero value: how long a node may not answer before its peers count it
	// as failing.
	defaultNodeTimeout = 2 * time.Second
)

// ClusterOptions configure StartClusterWith. Zero fields take the defaults.
type ClusterOptions struct {
	// Masters is the number of masters; the slots are spread evenly over
	// them. It must be at least 1.
	Masters int
	// ReplicasPerMaster is how many replicas each master gets (0: none).
	// With replicas, a master that fails is replaced by one of them.
	ReplicasPerMaster int
	// NodeTimeout is cluster-node-timeout: how long a node may not answer
	// before a failover begins. Zero means 2 s. Failure detection and
	// election take it plus about a second.
	NodeTimeout time.Duration
	// PartialCoverage sets cluster-require-full-coverage no: masters keep
	// serving their slots while another master is down and not yet
	// replaced. With Redis' default (yes), every node answers CLUSTERDOWN
	// from the moment a master is marked failed until its replica takes
	// over, so one node's failure costs every key for that time.
	PartialCoverage bool
}

// Cluster is a Redis Cluster, each node a Server on its own loopback port.
// It needs redis-server 7.0 or newer.
type Cluster struct {
	nodes    []*Server   // masters, in slot order
	replicas [][]*Server // replicas[i] replicate nodes[i] at the start
}

// StartCluster starts masters cluster nodes, spreads the 16384 hash slots
// evenly over them in order, and returns once every node reports
// cluster_state:ok and sees every node's slots at its 127.0.0.1 address,
// which is when a cluster client can use it. ctx bounds only the start,
// together with an internal limit of 20 s.
//
// The caller must Close the cluster; tests should use NewCluster instead.
func StartCluster(ctx context.Context, masters int) (*Cluster, error) {
	return StartClusterWith(ctx, ClusterOptions{Masters: masters})
}

// StartClusterWith starts a cluster as opts describe and returns once every
// node agrees on the slots and, with replicas, every replica has copied its
// master. ctx bounds only the start.
func StartClusterWith(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	masters := opts.Masters
	if masters < 1 || opts.ReplicasPerMaster < 0 {
		return nil, fmt.Errorf("storetest: start cluster: need at least one master and no negative replica count, got %d and %d", masters, opts.ReplicasPerMaster)
	}
	c := &Cluster{nodes: make([]*Server, masters), replicas: make([][]*Server, masters)}
	total := masters * (1 + opts.ReplicasPerMaster)
	all := make([]*Server, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	for i := range total {
		wg.Go(func() {
			var o Options
			if opts.PartialCoverage {
				o.Args = []string{"--cluster-require-full-coverage", "no"}
			}
			all[i], errs[i] = startServer(ctx, &Server{opts: o, nodeTimeout: opts.NodeTimeout}, true)
		})
	}
	wg.Wait()
	copy(c.nodes, all[:masters])
	for i := range masters {
		for r := range opts.ReplicasPerMaster {
			c.replicas[i] = append(c.replicas[i], all[masters+i*opts.ReplicasPerMaster+r])
		}
	}
	if err := errors.Join(errs...); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("storetest: start cluster: %w", err)
	}
	if err := c.form(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("storetest: start cluster: %w", err)
	}
	return c, nil
}

// NewCluster starts a cluster like StartCluster and registers a cleanup that
// closes it at the end of the test. A cluster that cannot start fails the
// test. If the test has failed by the time of the cleanup, the end of every
// node's log is added to the test output.
func NewCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	return NewClusterWith(tb, ClusterOptions{Masters: masters})
}

// NewClusterWith starts a cluster like StartClusterWith and closes every node
// at the end of the test.
func NewClusterWith(tb testing.TB, opts ClusterOptions) *Cluster {
	tb.Helper()
	c, err := StartClusterWith(tb.Context(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range c.all() {
		tb.Cleanup(func() { cleanup(tb, n) })
	}
	return c
}

func (c *Cluster) all() []*Server {
	out := append([]*Server(nil), c.nodes...)
	for _, rs := range c.replicas {
		out = append(out, rs...)
	}
	return out
}

// form assigns the slots, joins the nodes and waits for them to agree.
func (c *Cluster) form(ctx context.Context) error {
	n := len(c.nodes)
	for i, node := range c.nodes {
		lo, hi := i*clusterSlots/n, (i+1)*clusterSlots/n-1
		if _, err := node.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
			return fmt.Errorf("assign slots %d-%d: %w", lo, hi, err)
		}
	}
	first := c.nodes[0]
	for _, node := range c.all()[1:] {
		// MEET names the bus port because it is not the default port+10000.
		if _, err := node.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(first.port), strconv.Itoa(first.busPort)); err != nil {
			return fmt.Errorf("join %s to %s: %w", node.addr, first.addr, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	if err := c.replicate(ctx); err != nil {
		return err
	}
	for {
		err := c.agreed(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes did not agree: %w: %w", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// replicate makes each replica replicate its master, once it knows the
// master, and waits for the copies to finish.
func (c *Cluster) replicate(ctx context.Context) error {
	for i, rs := range c.replicas {
		if len(rs) == 0 {
			continue
		}
		id, err := c.nodes[i].Do(ctx, "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		for _, r := range rs {
			for {
				_, err := r.Do(ctx, "CLUSTER", "REPLICATE", id)
				if err == nil {
					break
				}
				// "Unknown node" until gossip has introduced the master.
				select {
				case <-ctx.Done():
					return fmt.Errorf("replicate %s from %s: %w: %w", r.addr, c.nodes[i].addr, ctx.Err(), err)
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	for i, rs := range c.replicas {
		for _, r := range rs {
			if err := r.waitLinked(ctx); err != nil {
				return err
			}
		}
		if len(rs) > 0 {
			if err := c.nodes[i].waitReplicasOnline(ctx, len(rs)); err != nil {
				return err
			}
		}
	}
	return nil
}

// agreed returns nil once every node is healthy and routes every slot to the
// node it was given to; otherwise it says what is still missing.
func (c *Cluster) agreed(ctx context.Context) error {
	want := make(map[int]bool, len(c.nodes))
	for _, node := range c.nodes {
		want[node.port] = true
	}
	replicas := 0
	if len(c.replicas) > 0 {
		replicas = len(c.replicas[0])
	}
	for _, node := range c.all() {
		info, err := node.Do(ctx, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		for _, field := range []string{
			"cluster_state:ok",
			"cluster_slots_ok:" + strconv.Itoa(clusterSlots),
			"cluster_known_nodes:" + strconv.Itoa(len(c.all())),
		} {
			if !strings.Contains(info, field+"\r\n") {
				return fmt.Errorf("%s lacks %s", node.addr, field)
			}
		}
		v, err := node.do(ctx, "CLUSTER", "SLOTS")
		if err != nil {
			return err
		}
		if err := checkSlots(v, want); err != nil {
			return fmt.Errorf("cluster slots of %s: %w", node.addr, err)
		}
		if replicas > 0 {
			// CLUSTER NODES rather than CLUSTER SLOTS, whose reply 7.0
			// caches for seconds without the replicas it has since met.
			nodes, err := node.Do(ctx, "CLUSTER", "NODES")
			if err != nil {
				return err
			}
			n := 0
			for _, line := range strings.Split(nodes, "\n") {
				if f := strings.Fields(line); len(f) > 3 && strings.Contains(f[2], "slave") && f[3] != "-" {
					n++
				}
			}
			if n != replicas*len(c.nodes) {
				return fmt.Errorf("%s sees %d replicas, want %d", node.addr, n, replicas*len(c.nodes))
			}
		}
	}
	return nil
}

// checkSlots checks a CLUSTER SLOTS reply: every slot covered once, and by
// masters at 127.0.0.1 on exactly the wanted ports. An unknown address would
// send a client nowhere, and nodes learn their own address only from gossip.
func checkSlots(v any, want map[int]bool) error {
	ranges, ok := v.([]any)
	if !ok {
		return fmt.Errorf("unexpected reply %T", v)
	}
	covered := 0
	seen := make(map[int]bool, len(want))
	for _, r := range ranges {
		e, ok := r.([]any)
		if !ok || len(e) < 3 {
			return fmt.Errorf("unexpected range %v", r)
		}
		lo, ok1 := e[0].(int64)
		hi, ok2 := e[1].(int64)
		master, ok3 := e[2].([]any)
		if !ok1 || !ok2 || !ok3 || len(master) < 2 {
			return fmt.Errorf("unexpected range %v", r)
		}
		ip, _ := master[0].(string)
		port, _ := master[1].(int64)
		if ip != "127.0.0.1" || !want[int(port)] {
			return fmt.Errorf("slots %d-%d at unexpected address %s", lo, hi, net.JoinHostPort(ip, strconv.FormatInt(port, 10)))
		}
		seen[int(port)] = true
		covered += int(hi - lo + 1)
	}
	if covered != clusterSlots {
		return fmt.Errorf("%d of %d slots covered", covered, clusterSlots)
	}
	if len(seen) != len(want) {
		return fmt.Errorf("%d of %d masters serve slots", len(seen), len(want))
	}
	return nil
}

// Addrs returns the nodes' addresses, "127.0.0.1:port", in slot order: the
// first node serves the lowest slots.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr
	}
	return addrs
}

// KeySlot returns the hash slot of key as Redis Cluster computes it: CRC16
// (XMODEM) of the key, or of its hash tag, modulo 16384. It lets a test tell
// which node a key lives on without a round trip per key.
func KeySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % clusterSlots
}

// URL returns all node addresses as one URL, the first as host and the
// others as addr parameters, which is the form rueidis.ParseURL reads as a
// list of cluster seeds:
// "redis://127.0.0.1:p1?addr=127.0.0.1:p2&addr=127.0.0.1:p3".
func (c *Cluster) URL() string {
	var b strings.Builder
	for i, a := range c.Addrs() {
		switch i {
		case 0:
			b.WriteString("redis://")
		case 1:
			b.WriteString("?addr=")
		default:
			b.WriteString("&addr=")
		}
		b.WriteString(a)
	}
	return b.String()
}

// Nodes returns the nodes that were masters at the start, in slot order.
// Killing, pausing or restarting one is how a test exercises failures; a
// restarted node rejoins with its slots, or as a replica if one of its
// replicas took over meanwhile. Closing one is the cluster's business: use
// Close.
func (c *Cluster) Nodes() []*Server {
	return append([]*Server(nil), c.nodes...)
}

// Replicas returns the replicas the i-th node of Nodes had at the start.
func (c *Cluster) Replicas(i int) []*Server {
	return append([]*Server(nil), c.replicas[i]...)
}

// Owner returns the node that serves slot now, as the first node that
// answers CLUSTER SLOTS sees it.
func (c *Cluster) Owner(ctx context.Context, slot int) (*Server, error) {
	byPort := make(map[int64]*Server)
	for _, n := range c.all() {
		byPort[int64(n.port)] = n
	}
	var lastErr error
	for _, n := range c.all() {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		v, err := n.do(pctx, "CLUSTER", "SLOTS")
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		ranges, _ := v.([]any)
		for _, r := range ranges {
			e, _ := r.([]any)
			if len(e) < 3 {
				continue
			}
			lo, _ := e[0].(int64)
			hi, _ := e[1].(int64)
			m, _ := e[2].([]any)
			if int64(slot) >= lo && int64(slot) <= hi && len(m) >= 2 {
				port, _ := m[1].(int64)
				if s := byPort[port]; s != nil {
					return s, nil
				}
			}
		}
		return nil, fmt.Errorf("storetest: no node serves slot %d", slot)
	}
	return nil, fmt.Errorf("storetest: no node answers CLUSTER SLOTS: %w", lastErr)
}

// Close closes every node. It is idempotent: later calls return nil.
func (c *Cluster) Close() error {
	errs := make([]error, 0, len(c.nodes))
	for _, n := range c.all() {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}
