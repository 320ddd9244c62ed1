package testutil

import (
	"crypto/rand"
	"fmt"
)

// BridgeEnv is the environment that gives one test store a default
// network of its own: a bridge name and a random IPv4 /24 in 10.100.0.0/10
// that no other test's store uses, so that parallel test packages never
// share a bridge or an address pool. The bridge goes away with the store's
// last running container.
func BridgeEnv() []string {
	b := make([]byte, 4)
	rand.Read(b)
	return []string{
		fmt.Sprintf("TINCAN_BRIDGE_NAME=tct%x", b),
		fmt.Sprintf("TINCAN_BRIDGE_SUBNET=10.%d.%d.0/24", 100+int(b[0])%60, b[1]),
	}
}
