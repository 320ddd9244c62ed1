package resources

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SharesToWeight maps v1 cpu.shares (2-262144, default 1024) linearly onto
// v2 cpu.weight (1-10000, default 100), the mapping runc and crun use so
// that a config means the same on both hosts: 2 -> 1, 262144 -> 10000.
func SharesToWeight(shares uint64) uint64 {
	if shares < MinShares {
		shares = MinShares
	}
	return 1 + (shares-MinShares)*9999/(MaxShares-MinShares)
}

// BlkioToIOWeight maps a v1 blkio weight (10-1000) linearly onto v2
// io.weight (1-10000): 10 -> 1, 1000 -> 10000.
func BlkioToIOWeight(weight uint16) uint64 {
	w := uint64(max(weight, MinBlkioWeight))
	return 1 + (w-MinBlkioWeight)*9999/(MaxBlkioWeight-MinBlkioWeight)
}

// SwapToV2 turns the runtime-spec swap value, a limit of memory+swap as v1
// memory.memsw.limit_in_bytes has it, into v2 memory.swap.max, a limit of
// swap alone: swap - limit. limit is the memory limit in force (-1:
// unlimited). -1 means unlimited swap ("max").
func SwapToV2(limit, swap int64) (string, error) {
	switch {
	case swap == -1:
		return "max", nil
	case limit == -1:
		return "", fmt.Errorf("memory+swap limit %d needs a memory limit, and memory is unlimited", swap)
	case swap < limit:
		return "", fmt.Errorf("memory+swap limit %d is below the memory limit %d", swap, limit)
	}
	return strconv.FormatInt(swap-limit, 10), nil
}

// Limit formats a limit for a v2 file or v1 pids.max: -1 is "max".
func Limit(v int64) string {
	if v == -1 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// Throttle is one of blockIO's per-device rate lists, with its config field
// name and the v1 and v2 names of its limit.
type Throttle struct {
	// Field is the name in linux.resources.blockIO.
	Field string
	// V1File is the v1 blkio file ("blkio.throttle.read_bps_device").
	V1File string
	// V2Key is the io.max key ("rbps").
	V2Key string
	// Devices are the configured limits.
	Devices []specs.LinuxThrottleDevice
}

// Throttles lists b's four throttle lists in a fixed order.
func Throttles(b *specs.LinuxBlockIO) []Throttle {
	return []Throttle{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", b.ThrottleWriteIOPSDevice},
	}
}
