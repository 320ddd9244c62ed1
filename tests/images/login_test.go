package images

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	se "github.com/tincan/tincan/storage/storagetest"
)

// htpasswd holds user "tester" with password "s3cret-pass" (bcrypt, cost
// 4 so the registry checks it quickly).
const htpasswd = "tester:$2b$04$pYZ4b80zKEUG9EYzR5vP3O8ipJ4h9gn83rTULcoQQdm8lI6Cgezgy\n"

// TestLogin: a registry that wants basic authentication refuses an
// anonymous pull and a wrong password; login stores the credentials in the
// docker config, pull and push use them, logout removes them.
func TestLogin(t *testing.T) {
	e := newEnv(t)
	reg := startRegistry(t, htpasswd)
	l := newLayout(t)
	l.tag(l.image(testImage{Layers: [][]byte{se.Layer(t, se.File("f", "x"))}}), reg.Host+"/private:v1")
	e.must("load", "-q", "-i", l.tarball())

	e.fails("tincan login "+reg.Host, "push", reg.Host+"/private:v1")
	login := func(password string) result {
		cmd := e.cmd("login", "-u", "tester", "--password-stdin", reg.Host)
		cmd.Stdin = strings.NewReader(password + "\n")
		out, err := cmd.CombinedOutput()
		r := result{stdout: string(out)}
		if err != nil {
			r.code = 1
		}
		return r
	}
	if r := login("wrong"); r.code == 0 || !strings.Contains(r.stdout, "unauthorized") {
		t.Fatalf("login with a wrong password: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(e.docker, "config.json")); err == nil {
		data, _ := os.ReadFile(filepath.Join(e.docker, "config.json"))
		if strings.Contains(string(data), reg.Host) {
			t.Fatalf("a refused login was stored: %s", data)
		}
	}
	if r := login("s3cret-pass"); r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") {
		t.Fatalf("login: %+v", r)
	}
	var conf struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	data, err := os.ReadFile(filepath.Join(e.docker, "config.json"))
	if err == nil {
		err = json.Unmarshal(data, &conf)
	}
	if err != nil || conf.Auths[reg.Host].Auth == "" {
		t.Fatalf("docker config after login: %s, %v", data, err)
	}

	e.must("push", "-q", reg.Host+"/private:v1")
	e2 := newEnv(t)
	e2.docker = e.docker // the same login
	e2.must("pull", "-q", reg.Host+"/private:v1")
	// skopeo reads the same docker config.
	skopeo(t, "inspect", "--tls-verify=false", "--authfile", filepath.Join(e.docker, "config.json"), "docker://"+reg.Host+"/private:v1")

	if out := e.must("logout", reg.Host).stdout; !strings.Contains(out, reg.Host) {
		t.Fatalf("logout: %q", out)
	}
	e3 := newEnv(t)
	e3.docker = e.docker
	e3.fails("access denied", "pull", reg.Host+"/private:v1")
	e3.fails("not logged in", "logout", reg.Host)
}
