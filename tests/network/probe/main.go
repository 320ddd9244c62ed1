// Command probe is the network tests' client and servers inside
// containers: a static Go binary (busybox-static's wget and ping resolve
// names through glibc's NSS, which crashes in a rootfs without it; Go's
// resolver reads /etc/hosts itself). Every operation has a deadline.
//
//	probe get URL              print the body of an HTTP GET
//	probe resolve NAME         print NAME's addresses (/etc/hosts, DNS)
//	probe udp-echo ADDR        echo UDP datagrams on ADDR (forever)
//	probe udp ADDR MESSAGE     send MESSAGE, print the reply
//	probe dial ADDR            connect over TCP; exit 0 if it connects
//	probe whoami ADDR          serve HTTP on ADDR, answering each request
//	                           with the client's address (for 60 s)
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const timeout = 2 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: probe get|resolve|udp-echo|udp|dial ARGS")
	}
	switch args[0] {
	case "get":
		c := &http.Client{Timeout: timeout}
		resp, err := c.Get(args[1])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(os.Stdout, resp.Body)
		return err
	case "resolve":
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupHost(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(addrs, " "))
		return nil
	case "udp-echo":
		pc, err := net.ListenPacket("udp", args[1])
		if err != nil {
			return err
		}
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return err
			}
			pc.WriteTo(buf[:n], from)
		}
	case "udp":
		if len(args) < 3 {
			return fmt.Errorf("usage: probe udp ADDR MESSAGE")
		}
		c, err := net.DialTimeout("udp", args[1], timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte(args[2])); err != nil {
			return err
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		fmt.Println(string(buf[:n]))
		return nil
	case "whoami":
		srv := &http.Server{Addr: args[1], ReadTimeout: timeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			fmt.Fprint(w, host)
		})}
		time.AfterFunc(60*time.Second, func() { os.Exit(0) })
		return srv.ListenAndServe()
	case "dial":
		c, err := net.DialTimeout("tcp", args[1], timeout)
		if err != nil {
			return err
		}
		return c.Close()
	}
	return fmt.Errorf("unknown command %q", args[0])
}
