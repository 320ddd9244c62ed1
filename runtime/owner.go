package runtime

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// userName maps a uid to a name through the host's /etc/passwd, or "#uid"
// when it has no entry (as runc shows unknown owners).
func userName(uid int) string {
	if uid == 0 {
		return "root"
	}
	f, err := os.Open("/etc/passwd")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		want := strconv.Itoa(uid)
		for sc.Scan() {
			fields := strings.SplitN(sc.Text(), ":", 4)
			if len(fields) >= 3 && fields[2] == want {
				return fields[0]
			}
		}
	}
	return "#" + strconv.Itoa(uid)
}
