package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"layeh.com/radius"

	"kradius.dev/test/cdrtopic"
)

// The chart on the cluster (issue 19), in both modes, against a Redis and
// the test Kafka broker on the host: a carrier's own Redis and Kafka live
// outside the cluster too, and the chart only points at them.

const (
	// The backends listen on the node's address, which pods reach through
	// the bridge's gateway and the host through its veth; ports of their
	// own, so that they clash with nothing on loopback.
	redisPort = "16379"
	kafkaPort = "19092"

	chartDir = repoRoot + "/charts/kradius"
	// clusterName is the RadiusCluster of operator mode.
	clusterName = "kr"
	// accountUser and accountPassword are the Account the test creates.
	accountUser, accountPassword = "alice", "wonderland"

	// helmLimit bounds helm install --wait and upgrade; they take seconds.
	helmLimit = 5 * time.Minute
	// readyLimit bounds a wait for pods to be scheduled, pulled and ready.
	readyLimit = 3 * time.Minute
	// scaleLimit bounds the HPA's scale-up: metrics-server's first
	// samples, two HPA syncs and a pod's start.
	scaleLimit = 5 * time.Minute
	// answerLimit bounds one NAS request with its retransmissions: long
	// enough for a flow to move off a stopped pod (conntrack, about 4 s)
	// and for a gRPC backend to come back, many times over.
	answerLimit = 2 * time.Minute
	// nasRetry is the NAS's retransmission interval.
	nasRetry = time.Second
)

// TestClusterHelm helm-installs the chart in operator mode and then in
// direct mode on one cluster, and in each logs in from the client
// namespace through the edge's NodePort, sends an Accounting Stop and finds
// its CDR on kradius.cdr.v1, and uninstalls. In operator mode it also
// scales the edge with its HPA under load and upgrades to a new image under
// load, with every Accounting-Request answered and billed once.
func TestClusterHelm(t *testing.T) {
	skipWithoutCluster(t)
	img := buildImages(t)
	c := Up(t)
	for _, archive := range []string{img.kradius.archive, img.operator.archive, img.next.archive} {
		if err := c.ImportImage(archive); err != nil {
			t.Fatal(err)
		}
	}
	b := startBackends(t, c)

	t.Run("operator mode", func(t *testing.T) { testOperatorMode(t, c, img, b) })
	t.Run("direct mode", func(t *testing.T) { testDirectMode(t, c, img, b) })

	c.Down()
	assertClean(t)
}

// image is one OCI archive of make image, and its name.
type image struct {
	archive, repository, tag string
}

func (i image) name() string { return i.repository + ":" + i.tag }

// images are what the test installs: make image's two, and next, the
// kradius image again with another version, for the upgrade.
type images struct {
	kradius, operator, next image
	// binary is make image's static kradius, which also runs on the
	// host: kradius bench and import.
	binary string
}

// buildImages runs make image, always: an archive left from another commit
// would test that commit. It is cached and reproducible, so cheap to rerun.
func buildImages(t *testing.T) images {
	t.Helper()
	began := time.Now()
	cmd := exec.Command("make", "image")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	var img images
	for _, p := range []struct {
		to   *image
		name string
	}{{&img.kradius, "kradius"}, {&img.operator, "operator"}} {
		archive := filepath.Join(repoRoot, "bin", p.name+"-image.tar")
		ref, err := ImageName(archive)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.LastIndex(ref, ":")
		*p.to = image{archive: archive, repository: ref[:i], tag: ref[i+1:]}
	}
	binary, err := filepath.Abs(filepath.Join(repoRoot, "bin", "image", "kradius"))
	if err != nil {
		t.Fatal(err)
	}
	img.binary = binary
	img.next = image{archive: filepath.Join(t.TempDir(), "next.tar"), repository: img.kradius.repository, tag: img.kradius.tag + "-next"}
	cmd = exec.Command("go", "run", "./test/ociimage", "-binary", img.binary, "-entrypoint", "/kradius",
		"-name", img.next.name(), "-out", img.next.archive, "-created", time.Now().UTC().Format(time.RFC3339),
		"-revision", "next", "-version", img.next.tag, "-source", "https://github.com/kradius/kradius")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the next image: %v\n%s", err, out)
	}
	t.Logf("images %s, %s and %s in %s", img.kradius.name(), img.operator.name(), img.next.name(), time.Since(began).Round(time.Second))
	return img
}

// backends are the carrier's own Redis and Kafka.
type backends struct {
	redis, kafka string
}

// startBackends runs redis-server and the test Kafka broker (test/
// kafkabroker) on the node's address, with the three kradius topics.
func startBackends(t *testing.T, c *Cluster) backends {
	t.Helper()
	broker := filepath.Join(t.TempDir(), "kafkabroker")
	build := exec.Command("go", "build", "-o", broker, "./kafkabroker")
	build.Dir = filepath.Join(repoRoot, "test")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Kafka broker: %v\n%s", err, out)
	}
	b := backends{redis: net.JoinHostPort(c.NodeIP(), redisPort), kafka: net.JoinHostPort(c.NodeIP(), kafkaPort)}
	if err := c.StartOnHost("redis-server", "redis-server", "--bind", c.NodeIP(), "--port", redisPort,
		"--save", "", "--appendonly", "no", "--protected-mode", "no"); err != nil {
		t.Fatal(err)
	}
	if err := c.StartOnHost("kafkabroker", broker, "-listen", b.kafka, "-partitions", "4",
		"-topics", "kradius.accounting.v1,kradius.cdr.v1,kradius.settlement.v1"); err != nil {
		t.Fatal(err)
	}
	c.WaitFor(t, time.Minute, "Redis and Kafka to listen", func() error {
		for _, addr := range []string{b.redis, b.kafka} {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return err
			}
			conn.Close()
		}
		return nil
	})
	return b
}

// operatorValues installs the operator, a RadiusCluster of one replica per
// component whose edge scales to three on CPU, and the client namespace as
// a FaxBack NAS. Requests are small so that the test's load crosses the
// HPA's target.
const operatorValues = `image: {repository: %[1]s, tag: %[2]q, pullPolicy: Never}
operator:
  image: {repository: %[3]s, tag: %[4]q, pullPolicy: Never}
  resources: {requests: {cpu: 10m, memory: 32Mi}}
radiusCluster: {enabled: true, name: ` + clusterName + `}
clients:
  - name: client-namespace
    cidrs: [%[5]s/32]
    secretRef: {name: nas-secrets, key: client-namespace}
    profile: faxback
redis:
  addresses: [%[6]q]
kafka:
  brokers: [%[7]q]
  partitions: 4
  replicationFactor: 1
edge:
  replicas: 1
  resources: {requests: {cpu: 50m, memory: 32Mi}}
  autoscaling: {enabled: true, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50}
  service: {type: NodePort}
  # A retransmission that the upgrade moves to another pod gets the reply
  # the first pod sent.
  sharedReplyCache: true
accounts: {replicas: 1, resources: {requests: {cpu: 20m, memory: 32Mi}}}
dids: {replicas: 1, resources: {requests: {cpu: 10m, memory: 32Mi}}}
cdr: {replicas: 1, resources: {requests: {cpu: 10m, memory: 32Mi}}}
`

func testOperatorMode(t *testing.T, c *Cluster, img images, b backends) {
	const ns, release = "kradius-operator", "kradius"
	createNamespace(t, c, ns)
	values := fmt.Sprintf(operatorValues, img.kradius.repository, img.kradius.tag,
		img.operator.repository, img.operator.tag, c.ClientIP, b.redis, b.kafka)
	began := time.Now()
	valuesFile := writeValues(t, values)
	helm(t, c, "install", release, chartDir, "-n", ns, "--wait", "--timeout", helmLimit.String(), "-f", valuesFile)
	kubectl(t, c, "-n", ns, "wait", "--for=condition=Ready", "radiuscluster/"+clusterName, "--timeout", readyLimit.String())
	t.Logf("helm install and RadiusCluster Ready in %s", time.Since(began).Round(100*time.Millisecond))

	// The account, as a carrier provisions one in operator mode.
	mustTool(t, c, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %[1]s-password}
stringData: {password: %[2]s}
---
apiVersion: kradius.dev/v1alpha1
kind: Account
metadata: {name: %[1]s}
spec:
  clusterRef: {name: %[3]s}
  passwordSecretRef: {name: %[1]s-password, key: password}
`, accountUser, accountPassword, clusterName), "kubectl", "-n", ns, "apply", "-f", "-")
	kubectl(t, c, "-n", ns, "wait", "--for=condition=Synced", "account/"+accountUser, "--timeout", readyLimit.String())

	edgeService := clusterName + "-edge"
	// Four port servers' sockets: four flows, which kube-proxy may give
	// to different edge pods.
	n := newNAS(t, c, ns, edgeService, 4)
	n.loginAccepted(t, "op-login")
	n.sourceAddressSeen(t, ns, "app.kubernetes.io/instance="+clusterName+",app.kubernetes.io/component=edge")
	n.stopBilled(t, b.kafka, "kradius-cdr-"+ns+"-"+clusterName, "op-stop-1")

	scaleEdgeUnderLoad(t, c, img, ns, clusterName+"-edge", n)

	// The upgrade: the RadiusCluster's image changes, and the operator
	// rolls every component while NAS keep sending.
	upgradeUnderLoad(t, c, ns, n, b.kafka, "kradius-cdr-"+ns+"-"+clusterName, func() {
		helm(t, c, "upgrade", release, chartDir, "-n", ns, "-f", valuesFile, "--set", "image.tag="+img.next.tag,
			"--wait", "--timeout", helmLimit.String())
		kubectl(t, c, "-n", ns, "wait", "--for=jsonpath={.spec.image}="+img.next.name(), "radiuscluster/"+clusterName, "--timeout", "1m")
		for _, comp := range []string{"edge", "accounts", "dids", "cdr"} {
			deployment := clusterName + "-" + comp
			c.WaitFor(t, readyLimit, deployment+" to run "+img.next.name(), func() error {
				got, err := c.Kubectl("-n", ns, "get", "deployment", deployment, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
				if err != nil {
					return err
				}
				if got != img.next.name() {
					return fmt.Errorf("image %s", got)
				}
				return nil
			})
			kubectl(t, c, "-n", ns, "rollout", "status", "deployment/"+deployment, "--timeout", readyLimit.String())
		}
	})

	// The operator removes the account's record before the Account goes,
	// so it must outlive it.
	kubectl(t, c, "-n", ns, "delete", "account", accountUser, "--timeout", readyLimit.String())
	uninstall(t, c, ns, release, "secret/"+accountUser+"-password")
}

// directValues renders the components without the operator, against the
// same Redis under another key prefix.
const directValues = `image: {repository: %[1]s, tag: %[2]q, pullPolicy: Never}
operator: {enabled: false}
clients:
  - name: client-namespace
    cidrs: [%[3]s/32]
    secretRef: {name: nas-secrets, key: client-namespace}
    profile: faxback
redis:
  addresses: [%[4]q]
  keyPrefix: "{kradius-direct}"
kafka:
  brokers: [%[5]q]
  partitions: 4
  replicationFactor: 1
networkPolicy:
  egress:
    redis: {to: [{ipBlock: {cidr: %[6]s/32}}]}
    kafka: {to: [{ipBlock: {cidr: %[6]s/32}}]}
edge:
  replicas: 1
  resources: {requests: {cpu: 50m, memory: 32Mi}}
  autoscaling: {enabled: true, minReplicas: 1, maxReplicas: 2, targetCPUUtilizationPercentage: 50}
  service: {type: NodePort}
accounts: {replicas: 1, resources: {requests: {cpu: 20m, memory: 32Mi}}}
dids: {replicas: 1, resources: {requests: {cpu: 10m, memory: 32Mi}}}
cdr: {replicas: 1, resources: {requests: {cpu: 10m, memory: 32Mi}}}
`

func testDirectMode(t *testing.T, c *Cluster, img images, b backends) {
	// Not operator mode's release name: each mode's cluster-wide objects
	// are told apart by their release label.
	const ns, release = "kradius-direct", "kradius-direct"
	createNamespace(t, c, ns)
	began := time.Now()
	helm(t, c, "install", release, chartDir, "-n", ns, "--wait", "--timeout", helmLimit.String(), "-f",
		writeValues(t, fmt.Sprintf(directValues, img.kradius.repository, img.kradius.tag, c.ClientIP, b.redis, b.kafka, c.NodeIP())))
	t.Logf("helm install --wait in %s", time.Since(began).Round(100*time.Millisecond))

	// Without the operator, accounts come from kradius import, against the
	// accounts service's admin endpoint (the host reaches pod addresses).
	accounts := podIPs(t, c, ns, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component=accounts")
	file := filepath.Join(t.TempDir(), "accounts.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf("accounts:\n  - {name: %s, password: %s}\n", accountUser, accountPassword)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(img.binary, "import", "-admin", net.JoinHostPort(accounts[0], "9090"), file).CombinedOutput(); err != nil {
		t.Fatalf("kradius import: %v\n%s", err, out)
	}

	n := newNAS(t, c, ns, release+"-edge", 1)
	n.loginAccepted(t, "direct-login")
	n.sourceAddressSeen(t, ns, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component=edge")
	n.stopBilled(t, b.kafka, "kradius-cdr-"+ns+"-"+release, "direct-stop-1")
	uninstall(t, c, ns, release)
}

// scaleEdgeUnderLoad drives the edge's NodePort with kradius bench from the
// client namespace until its HPA has scaled it past its minimum and the new
// pods are ready, then stops the load. No request may have failed but those
// the edges shed as load, counted by reason: the load is meant to be more
// than one pod serves, and on a box busy with other work the edge may
// have to shed some before the new pods come (a NAS would resend them).
func scaleEdgeUnderLoad(t *testing.T, c *Cluster, img images, ns, deployment string, n *nas) {
	t.Helper()
	const edges = "app.kubernetes.io/component=edge"
	dropsBefore := edgeDrops(t, c, ns, edges)
	// The HPA has no figure before metrics-server's first sample of the
	// pods; the load must not end before it has one.
	c.WaitFor(t, scaleLimit, "metrics of the edge pods", func() error {
		_, err := c.Kubectl("-n", ns, "top", "pod", "-l", "app.kubernetes.io/component=edge")
		return err
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var report bytes.Buffer
	bench := c.ClientExec(ctx, img.binary, "bench", "-server", n.auth, "-secret", secret, "-mix", "login",
		"-accounts", accountUser+":"+accountPassword, "-rate", "1000", "-concurrency", "64",
		"-duration", scaleLimit.String(), "-timeout", "5s", "-json")
	bench.Stdout = &report
	bench.Stderr = os.Stderr
	// An interrupted run still writes its report.
	bench.Cancel = func() error { return bench.Process.Signal(syscall.SIGINT) }
	began := time.Now()
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	benchDone := make(chan error, 1)
	go func() { benchDone <- bench.Wait() }()

	var replicas int
	c.WaitFor(t, scaleLimit, "the HPA to scale "+deployment+" past one ready replica", func() error {
		select {
		case err := <-benchDone:
			t.Fatalf("kradius bench ended before the scale-up: %v\n%s", err, report.String())
		default:
		}
		out, err := c.Kubectl("-n", ns, "get", "deployment", deployment, "-o", "jsonpath={.status.readyReplicas}")
		if err != nil {
			return err
		}
		replicas, _ = strconv.Atoi(strings.TrimSpace(out))
		if replicas < 2 {
			hpa, _ := c.Kubectl("-n", ns, "get", "hpa", "-o", "wide")
			return fmt.Errorf("%d ready replicas; %s", replicas, hpa)
		}
		return nil
	})
	took := time.Since(began)
	// Some load on the new pods too, before it stops.
	kubectl(t, c, "-n", ns, "rollout", "status", "deployment/"+deployment, "--timeout", readyLimit.String())
	cancel()
	<-benchDone

	var res struct {
		Sent, Received, Timeouts uint64
		BadAuthenticator         uint64 `json:"bad_authenticator"`
		Replies                  map[string]uint64
		RequestsPerSecond        float64 `json:"requests_per_second"`
	}
	if err := json.Unmarshal(report.Bytes(), &res); err != nil {
		t.Fatalf("kradius bench's report: %v\n%s", err, report.String())
	}
	hpa, _ := c.Kubectl("-n", ns, "get", "hpa", "-o", "wide")
	t.Logf("the HPA scaled %s from 1 to %d ready replicas %s after the load began; kradius bench: %d sent, %d answered, %.0f/s, replies %v\n%s",
		deployment, replicas, took.Round(100*time.Millisecond), res.Sent, res.Received, res.RequestsPerSecond, res.Replies, hpa)
	shed := map[string]float64{}
	var load float64
	for reason, n := range edgeDrops(t, c, ns, edges) {
		if d := n - dropsBefore[reason]; d > 0 {
			shed[reason] = d
			if reason == "overload" || reason == "queue_timeout" {
				load += d
			}
		}
	}
	if len(shed) > 0 {
		t.Logf("the edges dropped %v", shed)
	}
	if res.Sent == 0 || res.Received+res.Timeouts != res.Sent || float64(res.Timeouts) > load || load > float64(res.Timeouts) ||
		res.BadAuthenticator != 0 || res.Replies["Access-Accept"] != res.Received || len(shed) > 0 && load != sumValues(shed) {
		t.Errorf("requests failed during the scale-up: %d sent, %d answered, %d timeouts (the edges shed %v), %d bad authenticators, replies %v",
			res.Sent, res.Received, res.Timeouts, shed, res.BadAuthenticator, res.Replies)
	}
}

// edgeDrops sums the auth port's kradius_edge_drops_total by reason over
// the edge pods that selector picks.
func edgeDrops(t *testing.T, c *Cluster, ns, selector string) map[string]float64 {
	t.Helper()
	drops := map[string]float64{}
	for _, ip := range podIPs(t, c, ns, selector) {
		body, err := get("http://" + net.JoinHostPort(ip, "9812") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(body, "\n") {
			rest, ok := strings.CutPrefix(line, "kradius_edge_drops_total{")
			if !ok || !strings.Contains(rest, `listener="auth"`) {
				continue
			}
			_, reason, _ := strings.Cut(rest, `reason="`)
			reason, _, _ = strings.Cut(reason, `"`)
			_, value, _ := strings.Cut(rest, "} ")
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				drops[reason] += v
			}
		}
	}
	return drops
}

func sumValues(m map[string]float64) float64 {
	var sum float64
	for _, v := range m {
		sum += v
	}
	return sum
}

// upgradeUnderLoad runs NAS sessions (a login, then a Stop) at a steady
// rate while upgrade runs, and for a while after: every login must be
// accepted and every Stop answered, after retransmissions if need be, and
// every Stop's CDR must appear once on kradius.cdr.v1.
func upgradeUnderLoad(t *testing.T, c *Cluster, ns string, n *nas, broker, group string, upgrade func()) {
	t.Helper()
	const perSecond = 40
	ctx, cancel := context.WithTimeout(context.Background(), helmLimit+2*answerLimit)
	defer cancel()
	var (
		wg                          sync.WaitGroup
		mu                          sync.Mutex
		sessions                    []string
		failures                    []string
		rejects, resent, answered   atomic.Int64
		stopLoad                    = make(chan struct{})
		loadDone                    = make(chan struct{})
		upgradeBegan, upgradeEnded  time.Time
		sessionsBefore, sessionsMid int
	)
	go func() {
		defer close(loadDone)
		tick := time.NewTicker(time.Second / perSecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopLoad:
				return
			case <-tick.C:
			}
			session := fmt.Sprintf("upgrade-%05d", i)
			mu.Lock()
			sessions = append(sessions, session)
			mu.Unlock()
			auth, acct := n.sockets[i%len(n.sockets)], n.acctSockets[i%len(n.acctSockets)]
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(ctx, answerLimit)
				defer cancel()
				reply, sends, err := auth.exchange(ctx, faxbackLogin(secret, accountUser, accountPassword))
				resent.Add(int64(sends - 1))
				switch {
				case err != nil:
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: login: %v", session, err))
					mu.Unlock()
					return
				case reply.Code != radius.CodeAccessAccept:
					rejects.Add(1)
					return
				}
				reply, sends, err = acct.exchange(ctx, faxbackStop(secret, session, accountUser, "5551230000"))
				resent.Add(int64(sends - 1))
				if err == nil && reply.Code != radius.CodeAccountingResponse {
					err = fmt.Errorf("answered %v", reply.Code)
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: Stop: %v", session, err))
					mu.Unlock()
					return
				}
				answered.Add(1)
			})
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(sessions)
	}
	// Load before, during and after the upgrade.
	time.Sleep(3 * time.Second) // a steady load is what the upgrade meets; this is its length, not a wait for an event
	sessionsBefore = count()
	upgradeBegan = time.Now()
	upgrade()
	upgradeEnded = time.Now()
	sessionsMid = count()
	time.Sleep(5 * time.Second) // load after the rollout, onto the new pods only
	close(stopLoad)
	<-loadDone
	wg.Wait()

	t.Logf("upgrade in %s under %d sessions a second: %d sessions (%d before it, %d during), %d answered, %d retransmissions, %d rejects, %d failed",
		upgradeEnded.Sub(upgradeBegan).Round(100*time.Millisecond), perSecond, len(sessions), sessionsBefore,
		sessionsMid-sessionsBefore, answered.Load(), resent.Load(), rejects.Load(), len(failures))
	if r := rejects.Load(); r > 0 {
		t.Errorf("%d false Access-Rejects during the upgrade", r)
	}
	for _, f := range failures {
		t.Error(f)
	}
	readCtx, readCancel := context.WithTimeout(context.Background(), answerLimit)
	defer readCancel()
	seen, err := cdrtopic.Read(readCtx, broker, group)
	if err != nil {
		t.Fatal(err)
	}
	missing, duplicated := 0, 0
	for _, s := range sessions {
		switch seen[s] {
		case 1:
		case 0:
			missing++
		default:
			duplicated += seen[s] - 1
		}
	}
	t.Logf("kradius.cdr.v1: %d of %d sessions' CDRs, %d missing, %d duplicated", len(sessions)-missing, len(sessions), missing, duplicated)
	if missing > 0 || duplicated > 0 {
		t.Errorf("%d CDRs lost and %d duplicated across the upgrade", missing, duplicated)
	}
}

// nas is the client namespace's port servers: sockets from there to the
// edge Service's NodePorts.
type nas struct {
	c          *Cluster
	auth, acct string // NodeIP:NodePort
	sockets    []*nasSocket
	// acctSockets share the sockets' ports for accounting: one socket
	// per server address, as a port server has.
	acctSockets []*nasSocket
}

// newNAS opens sockets NAS sockets to the edge Service's NodePorts.
func newNAS(t *testing.T, c *Cluster, ns, service string, sockets int) *nas {
	t.Helper()
	n := &nas{c: c}
	for _, p := range []struct {
		to   *string
		name string
	}{{&n.auth, "auth"}, {&n.acct, "acct"}} {
		port := kubectl(t, c, "-n", ns, "get", "service", service, "-o", `jsonpath={.spec.ports[?(@.name=="`+p.name+`")].nodePort}`)
		*p.to = net.JoinHostPort(c.NodeIP(), strings.TrimSpace(port))
	}
	n.sockets = n.open(t, n.auth, sockets)
	n.acctSockets = n.open(t, n.acct, sockets)
	return n
}

func (n *nas) open(t *testing.T, server string, count int) []*nasSocket {
	t.Helper()
	var out []*nasSocket
	for range count {
		conn, err := n.c.ClientUDP()
		if err != nil {
			t.Fatal(err)
		}
		s, err := newNASSocket(conn, server, secret, nasRetry)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.close)
		out = append(out, s)
	}
	return out
}

// loginAccepted logs the Account in. The first request after an install
// may meet a NodePort kube-proxy has not written yet: the NAS retransmits.
func (n *nas) loginAccepted(t *testing.T, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), answerLimit)
	defer cancel()
	reply, sends, err := n.sockets[0].exchange(ctx, faxbackLogin(secret, accountUser, accountPassword))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if reply.Code != radius.CodeAccessAccept {
		t.Fatalf("%s: %v, want Access-Accept", what, reply.Code)
	}
	t.Logf("%s: Access-Accept from %s to %s after %d send(s)", what, n.c.ClientIP, n.auth, sends)
}

// sourceAddressSeen shows that the edge saw the NAS's own address. Its log
// names it: an Accounting-Request signed with the wrong secret is dropped
// with a line carrying src. Its metrics count it: the client table knows
// the NAS by that address alone (a /32), so a request counted under the
// faxback profile came from it, and none was dropped as an unknown client.
func (n *nas) sourceAddressSeen(t *testing.T, ns, selector string) {
	t.Helper()
	bad := faxbackStop("not-the-secret", "wrong-secret", accountUser, "5551230000")
	bad.Identifier = 0
	raw, err := bad.Encode()
	if err != nil {
		t.Fatal(err)
	}
	s := n.acctSockets[0]
	n.c.WaitFor(t, time.Minute, "the edge's log line with the NAS's address", func() error {
		if _, err := s.conn.WriteToUDP(raw, s.server); err != nil {
			return err
		}
		out, err := n.c.Kubectl("-n", ns, "logs", "-l", selector, "--tail=-1")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			// The edge listens on [::], which shows an IPv4 source mapped.
			if strings.Contains(line, "request dropped") &&
				(strings.Contains(line, `"`+n.c.ClientIP+":") || strings.Contains(line, "ffff:"+n.c.ClientIP+"]")) {
				t.Logf("edge log: %s", line)
				return nil
			}
		}
		return fmt.Errorf("no log line of a dropped request from %s:\n%s", n.c.ClientIP, out)
	})
	var accepted, unknown float64
	for _, ip := range podIPs(t, n.c, ns, selector) {
		body, err := get("http://" + net.JoinHostPort(ip, "9812") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		accepted += sumSeries(body, "kradius_edge_requests_total", `listener="auth"`, `profile="faxback"`, `result="accept"`)
		unknown += sumSeries(body, "kradius_edge_drops_total", `reason="unknown_client"`)
	}
	t.Logf("edge metrics: %v faxback logins accepted, %v requests from unknown clients", accepted, unknown)
	if accepted < 1 || unknown != 0 {
		t.Errorf("the edge's metrics do not show the NAS's address: %v faxback logins accepted, %v requests from unknown clients", accepted, unknown)
	}
}

// stopBilled sends an Accounting Stop and finds its CDR, once, on
// kradius.cdr.v1.
func (n *nas) stopBilled(t *testing.T, broker, group, session string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), answerLimit)
	defer cancel()
	reply, _, err := n.acctSockets[0].exchange(ctx, faxbackStop(secret, session, accountUser, "5551230000"))
	if err != nil {
		t.Fatalf("Stop %s: %v", session, err)
	}
	if reply.Code != radius.CodeAccountingResponse {
		t.Fatalf("Stop %s: %v", session, reply.Code)
	}
	seen, err := cdrtopic.Read(ctx, broker, group)
	if err != nil {
		t.Fatal(err)
	}
	if seen[session] != 1 {
		t.Fatalf("the CDR of %s appears %d times on kradius.cdr.v1, want once", session, seen[session])
	}
	t.Logf("Stop %s answered and its CDR on kradius.cdr.v1", session)
}

// uninstall runs helm uninstall and checks that the namespace holds
// nothing of the release: only the CRDs stay (Helm's rule), and keep, the
// objects the test made itself.
func uninstall(t *testing.T, c *Cluster, ns, release string, keep ...string) {
	t.Helper()
	helm(t, c, "uninstall", release, "-n", ns, "--wait", "--timeout", helmLimit.String())
	keep = append(keep, "secret/nas-secrets", "configmap/kube-root-ca.crt", "serviceaccount/default")
	kinds := "deployments,replicasets,pods,services,configmaps,secrets,serviceaccounts,roles,rolebindings," +
		"horizontalpodautoscalers,poddisruptionbudgets,networkpolicies,radiusclusters,radiusclients,accounts,dids"
	c.WaitFor(t, readyLimit, "the release's objects to go", func() error {
		out, err := c.Kubectl("-n", ns, "get", kinds, "-o", "name")
		if err != nil {
			return err
		}
		var left []string
		for _, obj := range strings.Fields(out) {
			if !kept(obj, keep) {
				left = append(left, obj)
			}
		}
		out, err = c.Kubectl("get", "clusterroles,clusterrolebindings", "-l", "app.kubernetes.io/instance="+release, "-o", "name")
		if err != nil {
			return err
		}
		left = append(left, strings.Fields(out)...)
		if len(left) > 0 {
			return fmt.Errorf("left: %s", strings.Join(left, " "))
		}
		return nil
	})
	out := kubectl(t, c, "get", "crds", "-o", "name")
	for _, crd := range []string{"radiusclusters.kradius.dev", "radiusclients.kradius.dev", "accounts.kradius.dev"} {
		if !strings.Contains(out, crd) {
			t.Errorf("CRD %s went with the release; Helm keeps the CRDs of crds/", crd)
		}
	}
}

// kept: obj (kind/name, the kind maybe with its group) is one of keep.
func kept(obj string, keep []string) bool {
	kind, name, _ := strings.Cut(obj, "/")
	kind, _, _ = strings.Cut(kind, ".")
	for _, k := range keep {
		if k == kind+"/"+name {
			return true
		}
	}
	return false
}

// createNamespace makes ns with the NAS's Secret, and shows what ran in it
// should the test fail.
func createNamespace(t *testing.T, c *Cluster, ns string) {
	t.Helper()
	kubectl(t, c, "create", "namespace", ns)
	t.Cleanup(func() {
		if t.Failed() {
			showNamespace(t, c, ns)
		}
	})
	kubectl(t, c, "-n", ns, "create", "secret", "generic", "nas-secrets", "--from-literal=client-namespace="+secret)
}

// showNamespace logs the pods of ns, the events, and each pod's last log
// lines (those of its previous container too, after a crash).
func showNamespace(t *testing.T, c *Cluster, ns string) {
	out, err := c.Kubectl("-n", ns, "get", "pods,deployments,hpa,radiusclusters", "-o", "wide")
	t.Logf("namespace %s: %v\n%s", ns, err, out)
	out, _ = c.Kubectl("-n", ns, "get", "events", "--sort-by=.lastTimestamp")
	t.Logf("events of %s:\n%s", ns, out)
	pods, _ := c.Kubectl("-n", ns, "get", "pods", "-o", "name")
	for _, pod := range strings.Fields(pods) {
		for _, previous := range []string{"--previous=false", "--previous=true"} {
			if out, err := c.Kubectl("-n", ns, "logs", pod, "--all-containers", "--tail=15", previous); err == nil && out != "" {
				t.Logf("%s (%s):\n%s", pod, previous, out)
			}
		}
	}
}

func writeValues(t *testing.T, values string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustTool runs the cluster's kubectl or helm (Cluster.tool) with stdin,
// and fails the test with its output if it fails.
func mustTool(t *testing.T, c *Cluster, stdin, name string, args ...string) string {
	t.Helper()
	out, err := c.tool(stdin, name, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

func kubectl(t *testing.T, c *Cluster, args ...string) string {
	t.Helper()
	return mustTool(t, c, "", "kubectl", args...)
}

func helm(t *testing.T, c *Cluster, args ...string) string {
	t.Helper()
	return mustTool(t, c, "", "helm", args...)
}

// podIPs are the addresses of the running pods that selector matches.
func podIPs(t *testing.T, c *Cluster, ns, selector string) []string {
	t.Helper()
	out := kubectl(t, c, "-n", ns, "get", "pods", "-l", selector, "--field-selector=status.phase=Running",
		"-o", "jsonpath={.items[*].status.podIP}")
	ips := strings.Fields(out)
	if len(ips) == 0 {
		t.Fatalf("no running pod matches %s in %s", selector, ns)
	}
	return ips
}

func get(url string) (string, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// sumSeries adds up the series of name, in a Prometheus text exposition,
// whose labels include every one of labels (each written name="value").
func sumSeries(body, name string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		set, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(","+set+",", ","+l+",")
		}
		if v, err := strconv.ParseFloat(strings.Fields(value)[0], 64); all && err == nil {
			sum += v
		}
	}
	return sum
}
