// Command pause is the sandbox ("infra") container of every pod the test
// cluster runs: it holds the pod's namespaces open and does nothing else
// until the kubelet stops it. It stands in for registry.k8s.io/pause, which
// cannot be pulled here (no registry), and is static so that the image needs
// no base.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
