package cgroupfs

// FreezerState is the freezer state of a cgroup.
type FreezerState int

// The freezer states. FreezerUnsupported is the zero value: no freezer.
const (
	// FreezerUnsupported: the host has no freezer for this cgroup (no v1
	// freezer hierarchy, or a kernel without cgroup.freeze).
	FreezerUnsupported FreezerState = iota
	// Thawed: the processes run.
	Thawed
	// Freezing: a freeze was asked for and not every process is frozen yet.
	Freezing
	// Frozen: every process of the cgroup tree is frozen.
	Frozen
)

// String returns the state in lower case, as runtimes print it.
func (s FreezerState) String() string {
	switch s {
	case Thawed:
		return "thawed"
	case Freezing:
		return "freezing"
	case Frozen:
		return "frozen"
	default:
		return "unsupported"
	}
}
