package cluster

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ClientUDP opens a UDP socket in the client namespace, so that the test
// itself can play a NAS outside the cluster: a socket belongs to the
// namespace it was made in, whichever the thread using it is in later.
func (c *Cluster) ClientUDP() (*net.UDPConn, error) {
	runtime.LockOSThread()
	home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer home.Close()
	client, err := os.Open("/run/netns/" + c.ClientNetns)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer client.Close()
	if err := unix.Setns(int(client.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("entering netns %s: %w", c.ClientNetns, err)
	}
	conn, listenErr := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(c.ClientIP)})
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, in the wrong namespace, and ends with
		// this goroutine rather than serve another one from there.
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("leaving netns %s: %w", c.ClientNetns, err)
	}
	runtime.UnlockOSThread()
	return conn, listenErr
}
