// The upstream service controller (k8s.io/cloud-provider/controllers/service, as the
// cloud-controller-manager runs it) wired to a simulated cloud that matches Ferry's `sim` provider
// call for call: one API call per LoadBalancer method, a set latency, counts by method and kind,
// and the same token-bucket shapes (aws, gce, arm), a call over budget answered "Throttling".
// `ferry bench scale --compare upstream` builds it with hack/upstream-controller.sh and runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	cloudprovider "k8s.io/cloud-provider"
	servicecontroller "k8s.io/cloud-provider/controllers/service"
	"k8s.io/component-base/featuregate"
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"
	"k8s.io/klog/v2"
)

type bucket struct {
	mu     sync.Mutex
	name   string
	cap    float64
	rate   float64
	tokens float64
	last   time.Time
}

func newBucket(name string, capacity, rate float64) *bucket {
	return &bucket{name: name, cap: capacity, rate: rate, tokens: capacity, last: time.Now()}
}

func (b *bucket) tryTake() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.cap {
		b.tokens = b.cap
	}
	b.last = now
	if b.tokens >= 1-1e-6 {
		b.tokens--
		return true
	}
	return false
}

// budget: the buckets each kind of call draws from, as in Ferry's sim provider (Budget.java)
func budget(shape string) (map[string][]*bucket, error) {
	switch shape {
	case "", "none":
		return map[string][]*bucket{}, nil
	case "aws":
		all := newBucket("elbv2", 40, 10)
		mutating := newBucket("elbv2-mutating", 20, 3)
		targets := newBucket("elbv2-targets", 20, 4)
		return map[string][]*bucket{"create": {all, mutating}, "delete": {all, mutating},
			"backends": {all, targets}, "read": {all}}, nil
	case "gce":
		reads := newBucket("compute-reads", 1200, 20)
		writes := newBucket("compute-mutations", 1200, 20)
		return map[string][]*bucket{"create": {writes}, "delete": {writes}, "backends": {writes},
			"read": {reads}}, nil
	case "arm":
		reads := newBucket("arm-reads", 250, 25)
		writes := newBucket("arm-writes", 200, 10)
		return map[string][]*bucket{"create": {writes}, "delete": {writes}, "backends": {writes},
			"read": {reads}}, nil
	}
	return nil, fmt.Errorf("--buckets %q is not one of aws, gce, arm, none", shape)
}

type simCloud struct {
	latency    time.Duration
	shape      string
	buckets    map[string][]*bucket
	mu         sync.Mutex
	calls      map[string]int64
	throttled  map[string]int64
	kinds      map[string]int64
	lastByKind map[string]int64
	lastCall   int64
	lbs        sync.Map
}

func (c *simCloud) call(method, kind string) error {
	for _, b := range c.buckets[kind] {
		if !b.tryTake() {
			c.mu.Lock()
			c.throttled[method]++
			c.mu.Unlock()
			return fmt.Errorf("Throttling: rate exceeded (%s)", b.name)
		}
	}
	if c.latency > 0 {
		time.Sleep(c.latency)
	}
	now := time.Now().UnixMilli()
	c.mu.Lock()
	c.calls[method]++
	c.kinds[kind]++
	if now > c.lastByKind[kind] {
		c.lastByKind[kind] = now
	}
	if now > c.lastCall {
		c.lastCall = now
	}
	c.mu.Unlock()
	return nil
}

func (c *simCloud) stats(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	type shape struct {
		Name      string   `json:"name"`
		Capacity  float64  `json:"capacity"`
		PerSecond float64  `json:"perSecond"`
		Kinds     []string `json:"kinds"`
	}
	byBucket := map[*bucket]*shape{}
	shapes := []*shape{}
	for _, kind := range []string{"create", "backends", "delete", "read"} {
		for _, b := range c.buckets[kind] {
			if byBucket[b] == nil {
				byBucket[b] = &shape{Name: b.name, Capacity: b.cap, PerSecond: b.rate}
				shapes = append(shapes, byBucket[b])
			}
			byBucket[b].Kinds = append(byBucket[b].Kinds, kind)
		}
	}
	body, _ := json.Marshal(map[string]any{"controller": "upstream", "budget": c.shape,
		"latencyMs": c.latency.Milliseconds(), "calls": c.calls, "throttled": c.throttled,
		"kinds": c.kinds, "lastByKind": c.lastByKind, "lastCall": c.lastCall, "buckets": shapes})
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func address(uid string) string {
	h := fnv.New32a()
	_, _ = io.WriteString(h, uid)
	v := h.Sum32()
	last := v & 0xfe
	if last == 0 {
		last = 1
	}
	return fmt.Sprintf("10.%d.%d.%d", (v>>16)&0xff, (v>>8)&0xff, last)
}

// cloudprovider.Interface: a load balancer only
func (c *simCloud) Initialize(cloudprovider.ControllerClientBuilder, <-chan struct{}) {}
func (c *simCloud) LoadBalancer() (cloudprovider.LoadBalancer, bool)                  { return c, true }
func (c *simCloud) Instances() (cloudprovider.Instances, bool)                        { return nil, false }
func (c *simCloud) InstancesV2() (cloudprovider.InstancesV2, bool)                    { return nil, false }
func (c *simCloud) Zones() (cloudprovider.Zones, bool)                                { return nil, false }
func (c *simCloud) Clusters() (cloudprovider.Clusters, bool)                          { return nil, false }
func (c *simCloud) Routes() (cloudprovider.Routes, bool)                              { return nil, false }
func (c *simCloud) ProviderName() string                                              { return "sim" }
func (c *simCloud) HasClusterID() bool                                                { return true }

func (c *simCloud) status(svc *v1.Service) *v1.LoadBalancerStatus {
	return &v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{{IP: address(string(svc.UID))}}}
}

func (c *simCloud) GetLoadBalancer(_ context.Context, _ string, svc *v1.Service) (*v1.LoadBalancerStatus, bool, error) {
	if err := c.call("GetLoadBalancer", "read"); err != nil {
		return nil, false, err
	}
	if _, ok := c.lbs.Load(svc.UID); ok {
		return c.status(svc), true, nil
	}
	return nil, false, nil
}

func (c *simCloud) GetLoadBalancerName(_ context.Context, _ string, svc *v1.Service) string {
	return cloudprovider.DefaultLoadBalancerName(svc)
}

func (c *simCloud) EnsureLoadBalancer(_ context.Context, _ string, svc *v1.Service, nodes []*v1.Node) (*v1.LoadBalancerStatus, error) {
	if err := c.call("EnsureLoadBalancer", "create"); err != nil {
		return nil, err
	}
	c.lbs.Store(svc.UID, len(nodes))
	return c.status(svc), nil
}

func (c *simCloud) UpdateLoadBalancer(_ context.Context, _ string, svc *v1.Service, nodes []*v1.Node) error {
	if _, ok := c.lbs.Load(svc.UID); !ok {
		return fmt.Errorf("no load balancer for %s/%s", svc.Namespace, svc.Name)
	}
	if err := c.call("UpdateLoadBalancer", "backends"); err != nil {
		return err
	}
	c.lbs.Store(svc.UID, len(nodes))
	return nil
}

func (c *simCloud) EnsureLoadBalancerDeleted(_ context.Context, _ string, svc *v1.Service) error {
	if err := c.call("EnsureLoadBalancerDeleted", "delete"); err != nil {
		return err
	}
	c.lbs.Delete(svc.UID)
	return nil
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	workers := flag.Int("concurrent-service-syncs", 1, "workers (the cloud-controller-manager's default: 1)")
	qps := flag.Float64("kube-api-qps", 20, "client QPS (the cloud-controller-manager's default: 20)")
	burst := flag.Int("kube-api-burst", 30, "client burst (the cloud-controller-manager's default: 30)")
	contentType := flag.String("kube-api-content-type", "application/vnd.kubernetes.protobuf",
		"wire format (the cloud-controller-manager's default: protobuf)")
	latency := flag.Duration("latency", 0, "simulated latency per cloud call")
	shape := flag.String("buckets", "none", "cloud buckets: aws, gce, arm or none")
	statsAddr := flag.String("stats-address", "127.0.0.1:0", "where /stats and /readyz listen")
	cluster := flag.String("cluster-name", "kubernetes", "cluster name")
	klog.InitFlags(nil)
	flag.Parse()

	buckets, err := budget(*shape)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("kubeconfig: %v", err)
	}
	config.QPS = float32(*qps)
	config.Burst = *burst
	config.ContentType = *contentType
	config.UserAgent = "upstream-service-controller"
	client := kubernetes.NewForConfigOrDie(config)

	cloud := &simCloud{latency: *latency, shape: *shape, buckets: buckets, calls: map[string]int64{},
		throttled: map[string]int64{}, kinds: map[string]int64{}, lastByKind: map[string]int64{}}
	factory := informers.NewSharedInformerFactory(client, 12*time.Hour)
	controller, err := servicecontroller.New(cloud, client, factory.Core().V1().Services(),
		factory.Core().V1().Nodes(), *cluster, featuregate.NewFeatureGate())
	if err != nil {
		klog.Fatalf("service controller: %v", err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	listener, err := net.Listen("tcp", *statsAddr)
	if err != nil {
		klog.Fatalf("stats: %v", err)
	}
	ready := false
	var readyMu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", cloud.stats)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		readyMu.Lock()
		defer readyMu.Unlock()
		if !ready {
			http.Error(w, "caches not synced", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	go func() { _ = http.Serve(listener, mux) }()
	fmt.Printf("stats on http://%s/stats\n", listener.Addr())

	factory.Start(ctx.Done())
	synced := factory.WaitForCacheSync(ctx.Done())
	names := []string{}
	for t, ok := range synced {
		if !ok {
			klog.Fatalf("cache of %v did not sync", t)
		}
		names = append(names, t.String())
	}
	sort.Strings(names)
	readyMu.Lock()
	ready = true
	readyMu.Unlock()
	klog.Infof("caches synced: %v", names)
	controller.Run(ctx, *workers, controllersmetrics.NewControllerManagerMetrics("bench"))
}
