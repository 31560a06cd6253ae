package cluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// The cluster's addresses. NodeIPAddr sits on the host end of a veth whose
// peer is parked in the sink namespace: this kernel has no dummy netdev,
// and a veth's host end only has carrier while its peer is up. The Service
// and Pod ranges are routed into the sink too, so that a packet kube-proxy
// did not rewrite dies there instead of following the default route out of
// the machine.
const (
	NodeIPAddr          = "172.30.231.1"
	sinkAddr            = "172.30.231.2"
	nodePrefix          = "/30"
	clientHostAddr      = "172.30.232.1"
	clientAddr          = "172.30.232.2"
	serviceCIDR         = "10.96.0.0/16"
	kubernetesServiceIP = "10.96.0.1"
	dnsServiceIP        = "10.96.0.10"
	podCIDR             = "10.244.0.0/16"
	nodePodSubnet       = "10.244.0.0/24"

	nodeName    = "kradius-node"
	sinkNetns   = "kradius-sink"
	clientNetns = "kradius-client"
	nodeLink    = "krnode0" // its peer, in sinkNetns, is krsink0
	clientLink  = "krcli0"  // its peer, in clientNetns, is krcli1
	bridgeLink  = "krcni0"  // made by the CNI bridge plugin

	apiserverPort = "6443"
	etcdClient    = "2379"
	etcdPeer      = "2380"
)

// Every listener is on NodeIPAddr, which is the test's own: no port on
// loopback or on the machine's uplink can clash with another test's.
var apiserverURL = "https://" + NodeIPAddr + ":" + apiserverPort

func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.dir}, elem...)...)
}

func (c *Cluster) pki(name string) string { return c.path("pki", name) }

// writeConfigs writes the kubeconfigs and the containerd, CNI, kubelet and
// kube-proxy configurations.
func (c *Cluster) writeConfigs() error {
	files := map[string]string{
		"admin.kubeconfig":   c.kubeconfigFor("admin"),
		"kubelet.kubeconfig": c.kubeconfigFor("kubelet-client"),
		"containerd.toml":    c.containerdConfig(),
		"cni/net.d/10-kradius.conflist": fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "kradius",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    }
  ]
}
`, bridgeLink, nodePodSubnet, c.path("cni", "ipam")),
		// A resolver that answers nothing (the sink has no server): pods
		// and CoreDNS never reach a real one.
		"resolv.conf":  "nameserver " + sinkAddr + "\n",
		"kubelet.yaml": c.kubeletConfig(),
		"kube-proxy.yaml": fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %s
mode: iptables
hostnameOverride: %s
bindAddress: %s
healthzBindAddress: %s:10256
metricsBindAddress: %s:10249
clusterCIDR: %s
# NodePorts on the node address only, not on the machine's uplink.
nodePortAddresses: [%s/32]
iptables:
  # Else kube-proxy sets net.ipv4.conf.all.route_localnet.
  localhostNodePorts: false
  minSyncPeriod: 0s
# 0: leave the conntrack sysctls as they are; the VM may not change
# nf_conntrack_max, and the machine is left as found.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, c.path("admin.kubeconfig"), nodeName, NodeIPAddr, NodeIPAddr, NodeIPAddr, podCIDR, NodeIPAddr),
	}
	for name, content := range files {
		p := c.path(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) kubeconfigFor(user string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kradius
  cluster:
    certificate-authority: %s
    server: %s
users:
- name: %s
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: kradius
  context:
    cluster: kradius
    user: %s
current-context: kradius
`, c.pki("ca.crt"), apiserverURL, user, c.pki(user+".crt"), c.pki(user+".key"), user)
}

// containerdConfig keeps all of containerd's state under the test's
// directory, its socket included, so that it neither meets nor disturbs a
// containerd the machine may run.
func (c *Cluster) containerdConfig() string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
# Snapshotters this machine lacks; they would only log errors.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  # No registry: the sandbox is the pause image imported from the cache.
  sandbox_image = %q
  # The VM lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state, by default under /run/containerd.
        Root = %q

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, c.path("containerd", "root"), c.path("containerd", "state"), c.sock,
		c.path("containerd", "opt"), pauseImage, c.path("containerd", "runc"),
		cniPlugins, c.path("cni", "net.d"))
}

// kubeletConfig: cgroup v1 with the cgroupfs driver (Kubernetes 1.35 would
// refuse cgroup v1), everything on disk under the test's directory, and
// nothing that changes the machine that Down could not undo.
func (c *Cluster) kubeletConfig() string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: %s
healthzPort: 10248
tlsCertFile: %s
tlsPrivateKeyFile: %s
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %s
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [%s]
resolvConf: %s
podLogsDir: %s
# Else the kubelet makes /usr/libexec/kubernetes/kubelet-plugins.
volumePluginDir: %s
# Its KUBE-FIREWALL and canary chains guard route_localnet, which nothing
# here sets.
makeIPTablesUtilChains: false
# The images are imported, not pulled: garbage collection must not remove
# them however full the shared disk is, nor eviction empty the node.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%%
  imagefs.available: 1%%
  nodefs.inodesFree: 1%%
serializeImagePulls: false
`, c.sock, NodeIPAddr, NodeIPAddr, c.pki("kubelet.crt"), c.pki("kubelet.key"), c.pki("ca.crt"),
		dnsServiceIP, c.path("resolv.conf"), c.path("pod-logs"), c.path("kubelet-plugins"))
}

// corednsManifest serves cluster.local and nothing else: with no forward
// plugin, a name outside the cluster gets an error, never a query to a real
// resolver. The image runs as a non-root user, which may not bind port 53,
// so CoreDNS listens on 1053 and the Service maps 53 to it.
var corednsManifest = fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: coredns
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:coredns
subjects:
- kind: ServiceAccount
  name: coredns
  namespace: kube-system
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:1053 {
        errors
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        cache 30
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      containers:
      - name: coredns
        image: %s
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 1053, protocol: UDP}
        - {name: dns-tcp, containerPort: 1053, protocol: TCP}
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 1
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          capabilities: {drop: [ALL]}
        volumeMounts:
        - {name: config, mountPath: /etc/coredns, readOnly: true}
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: %s
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, targetPort: 1053, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 1053, protocol: TCP}
`, corednsImage, dnsServiceIP)

// metricsValues installs the chart of sigs.k8s.io/metrics-server with the
// image from the cache. metrics-server is not given the cluster's CA, to
// check the kubelet's serving certificate with; and the node's InternalIP
// is the only address that leads to the kubelet (its name resolves to
// 127.0.0.1).
var metricsValues = fmt.Sprintf(`image:
  repository: localhost/metrics-server
  tag: %s
  pullPolicy: Never
defaultArgs:
  - --cert-dir=/tmp
  - --kubelet-preferred-address-types=InternalIP
  - --kubelet-use-node-status-port
  - --metric-resolution=15s
args:
  - --kubelet-insecure-tls
`, metricsVersion)
