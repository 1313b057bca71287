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
)

// Cluster is a Redis Cluster of master nodes without replicas, each a Server
// on its own loopback port. It needs redis-server 7.0 or newer.
type Cluster struct {
	nodes []*Server
}

// StartCluster starts masters cluster nodes, spreads the 16384 hash slots
// evenly over them in order, and returns once every node reports
// cluster_state:ok and sees every node's slots at its 127.0.0.1 address,
// which is when a cluster client can use it. ctx bounds only the start,
// together with an internal limit of 20 s.
//
// The caller must Close the cluster; tests should use NewCluster instead.
func StartCluster(ctx context.Context, masters int) (*Cluster, error) {
	if masters < 1 {
		return nil, fmt.Errorf("storetest: start cluster: need at least one master, got %d", masters)
	}
	c := &Cluster{nodes: make([]*Server, masters)}
	errs := make([]error, masters)
	var wg sync.WaitGroup
	for i := range masters {
		wg.Go(func() { c.nodes[i], errs[i] = start(ctx, Options{}, true) })
	}
	wg.Wait()
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
	c, err := StartCluster(tb.Context(), masters)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range c.nodes {
		tb.Cleanup(func() { cleanup(tb, n) })
	}
	return c
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
	for _, node := range c.nodes[1:] {
		// MEET names the bus port because it is not the default port+10000.
		if _, err := node.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(first.port), strconv.Itoa(first.busPort)); err != nil {
			return fmt.Errorf("join %s to %s: %w", node.addr, first.addr, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
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

// agreed returns nil once every node is healthy and routes every slot to the
// node it was given to; otherwise it says what is still missing.
func (c *Cluster) agreed(ctx context.Context) error {
	want := make(map[int]bool, len(c.nodes))
	for _, node := range c.nodes {
		want[node.port] = true
	}
	for _, node := range c.nodes {
		info, err := node.Do(ctx, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		for _, field := range []string{
			"cluster_state:ok",
			"cluster_slots_ok:" + strconv.Itoa(clusterSlots),
			"cluster_known_nodes:" + strconv.Itoa(len(c.nodes)),
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

// Nodes returns the nodes in slot order. Killing, pausing or restarting one
// is how a test exercises failures; a restarted node rejoins with its slots.
// Closing one is the cluster's business: use Close.
func (c *Cluster) Nodes() []*Server {
	return append([]*Server(nil), c.nodes...)
}

// Close closes every node. It is idempotent: later calls return nil.
func (c *Cluster) Close() error {
	errs := make([]error, 0, len(c.nodes))
	for _, n := range c.nodes {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}
