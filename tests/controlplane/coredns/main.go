// Command coredns is a minimal CoreDNS for the tests' cluster DNS: only the plugins a
// kubelet node's pods need to resolve <service>.<namespace>.svc.cluster.local against the
// tests' control plane. No forward plugin: the test machine has no upstream resolver.
//
// Upstream's own main (coredns.go) imports core/plugin, whose generated zplugin.go pulls
// in every plugin (cloud SDKs included: 1088 non-standard packages to compile); importing
// only these plugin packages and setting dnsserver.Directives to match needs 532.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// directives is the execution order of the plugins compiled in: upstream's plugin.cfg order
// (which core/dnsserver/zdirectives.go is generated from), cut down to them. metadata,
// prometheus (plugin/metrics) and transfer come in as dependencies of cache and kubernetes
// and register themselves, so they are listed too. A Corefile directive not listed here is
// rejected as unknown.
var directives = []string{
	"metadata",
	"bind",
	"ready",
	"health",
	"prometheus",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"transfer",
	"kubernetes",
}

func init() {
	// The server type reads Directives when a Corefile is loaded (after every init).
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
