// Command kube-router is kube-router's NetworkPolicy controller alone - the part k3s embeds
// (k3s' pkg/agent/netpol) - for the tests' real node: it turns the cluster's NetworkPolicies
// into iptables rules and ipsets in the node's network namespace, so that a policy refuses
// what it says. Upstream's own main (cmd/kube-router) also links the BGP router, the IPVS
// service proxy and the cloud SDKs they need; none of them runs here.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/cloudnativelabs/kube-router/v2/pkg/controllers/netpol"
	"github.com/cloudnativelabs/kube-router/v2/pkg/healthcheck"
	"github.com/cloudnativelabs/kube-router/v2/pkg/options"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

const module = "github.com/cloudnativelabs/kube-router/v2"

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				return dep.Version
			}
		}
	}
	return "unknown"
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	hostname := flag.String("hostname-override", "", "name of the Node this runs on")
	serviceCIDR := flag.String("service-cluster-ip-range", "10.96.0.0/16", "the cluster's Service range")
	period := flag.Duration("iptables-sync-period", time.Minute, "full resync period")
	printVersion := flag.Bool("version", false, "print the version and exit")
	klog.InitFlags(nil)
	flag.Parse()
	if *printVersion {
		fmt.Printf("kube-router-netpol %s\n", version())
		return
	}
	if err := run(*kubeconfig, *hostname, *serviceCIDR, *period); err != nil {
		klog.Errorf("kube-router-netpol: %v", err)
		os.Exit(1)
	}
}

func run(kubeconfig, hostname, serviceCIDR string, period time.Duration) error {
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	config := options.NewKubeRouterConfig()
	config.HostnameOverride = hostname
	config.ClusterIPCIDRs = []string{serviceCIDR}
	config.EnableIPv4 = true
	config.RunFirewall = true
	config.IPTablesSyncPeriod = period

	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods().Informer()
	namespaces := factory.Core().V1().Namespaces().Informer()
	policies := factory.Networking().V1().NetworkPolicies().Informer()

	iptablesHandlers, ipsetHandlers, err := netpol.NewIPTablesHandlers(config)
	if err != nil {
		return err
	}
	var ipsetMutex sync.Mutex
	controller, err := netpol.NewNetworkPolicyController(client, config, pods, policies, namespaces, &ipsetMutex,
		iptablesHandlers, ipsetHandlers)
	if err != nil {
		return err
	}
	if _, err = pods.AddEventHandler(controller.PodEventHandler); err != nil {
		return err
	}
	if _, err = namespaces.AddEventHandler(controller.NamespaceEventHandler); err != nil {
		return err
	}
	if _, err = policies.AddEventHandler(controller.NetworkPolicyEventHandler); err != nil {
		return err
	}

	stop := make(chan struct{})
	factory.Start(stop)
	for kind, synced := range factory.WaitForCacheSync(stop) {
		if !synced {
			return fmt.Errorf("the informer of %v did not sync", kind)
		}
	}
	// The controller reports its heartbeats here; nobody checks its health in the tests.
	heartbeats := make(chan *healthcheck.ControllerHeartbeat, 10)
	go func() {
		for range heartbeats {
		}
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go controller.Run(heartbeats, stop, &wg)
	klog.Infof("kube-router-netpol %s: enforcing NetworkPolicies on node %s", version(), hostname)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	close(stop)
	wg.Wait()
	return nil
}
