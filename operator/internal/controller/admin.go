package controller

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	"kradius.dev/services/rpc"
)

// AdminAddressAnnotation on a RadiusCluster overrides where the operator
// finds its admin service (tests, or a cluster run outside Kubernetes).
const AdminAddressAnnotation = "kradius.dev/admin-address"

// AdminConns keeps one gRPC connection per admin service address.
type AdminConns struct {
	TLS   rpc.TLSConfig
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// For returns the admin client of a cluster.
func (a *AdminConns) For(addr string) (adminv1.AdminServiceClient, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.conns[addr]; ok {
		return adminv1.NewAdminServiceClient(c), nil
	}
	c, err := rpc.Dial(addr, a.TLS)
	if err != nil {
		return nil, err
	}
	if a.conns == nil {
		a.conns = map[string]*grpc.ClientConn{}
	}
	a.conns[addr] = c
	return adminv1.NewAdminServiceClient(c), nil
}

// Close closes every connection.
func (a *AdminConns) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conns {
		_ = c.Close()
	}
}

// adminAddress finds the admin service of the cluster a resource names:
// the accounts Service the RadiusCluster controller creates, unless the
// cluster carries AdminAddressAnnotation.
func adminAddress(ctx context.Context, c client.Client, namespace, cluster string) (string, error) {
	var rc kradiusv1.RadiusCluster
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: cluster}, &rc); err != nil {
		return "", err
	}
	if addr := rc.Annotations[AdminAddressAnnotation]; addr != "" {
		return addr, nil
	}
	return fmt.Sprintf("%s.%s.svc:%d", componentName(rc.Name, "accounts"), namespace, grpcPort), nil
}
