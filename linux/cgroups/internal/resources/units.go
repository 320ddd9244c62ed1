package resources

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// sizeUnits are the binary prefixes of hugepage size names, base 1024.
const sizeUnits = "KMGTP"

// ParsePageSize parses a hugepage size as the runtime-spec and the hugetlb
// file names write it ("64KB", "2MB", "1GB") into bytes.
func ParsePageSize(s string) (uint64, error) {
	num, ok := strings.CutSuffix(s, "B")
	if !ok || len(num) < 2 {
		return 0, fmt.Errorf("page size %q: want <number><K|M|G|T|P>B, such as 2MB", s)
	}
	unit := strings.IndexByte(sizeUnits, num[len(num)-1])
	n, err := strconv.ParseUint(num[:len(num)-1], 10, 32)
	if unit < 0 || err != nil || n == 0 {
		return 0, fmt.Errorf("page size %q: want <number><K|M|G|T|P>B, such as 2MB", s)
	}
	return n << (10 * (unit + 1)), nil
}

// PageSizeName names a size in bytes as hugetlb files do: the largest
// binary unit that divides it ("2MB" for 2097152).
func PageSizeName(bytes uint64) string {
	unit := -1
	for bytes >= 1024 && bytes%1024 == 0 && unit < len(sizeUnits)-1 {
		bytes /= 1024
		unit++
	}
	if unit < 0 {
		return strconv.FormatUint(bytes, 10) + "B"
	}
	return strconv.FormatUint(bytes, 10) + string(sizeUnits[unit]) + "B"
}

// PageSizes lists the hugepage sizes this kernel supports, named as hugetlb
// files are ("2MB", "1GB"), from /sys/kernel/mm/hugepages; none when the
// kernel has no hugetlb support. Read once per process.
var PageSizes = sync.OnceValue(func() []string {
	entries, _ := os.ReadDir("/sys/kernel/mm/hugepages")
	var sizes []string
	for _, e := range entries {
		// "hugepages-2048kB"
		kb, prefixed := strings.CutPrefix(e.Name(), "hugepages-")
		kb, suffixed := strings.CutSuffix(kb, "kB")
		if !prefixed || !suffixed {
			continue
		}
		if n, err := strconv.ParseUint(kb, 10, 64); err == nil {
			sizes = append(sizes, PageSizeName(n*1024))
		}
	}
	slices.Sort(sizes)
	return sizes
})

// ParseList parses a CPU or memory node list ("0-3,7", as cpuset.cpus
// takes it) into the numbers it names, in order. An empty list is valid.
func ParseList(s string) ([]uint16, error) {
	s = strings.TrimSpace(s)
	var out []uint16
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err1 := strconv.ParseUint(lo, 10, 16)
		last := first
		var err2 error
		if isRange {
			last, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || last < first {
			return nil, fmt.Errorf("%q: %q is not a number or a range N-M", s, part)
		}
		for n := first; n <= last; n++ {
			out = append(out, uint16(n))
		}
	}
	return out, nil
}
